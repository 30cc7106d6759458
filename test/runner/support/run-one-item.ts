/**
 * A stand-in replay-node for orphan tests: runs the nodeos runner on one
 * long item against the fake nodeos, then waits to be killed.
 * Usage: node --import tsx run-one-item.ts <tmpdir> <pidfile>
 */
import { join } from 'node:path';
import { createWorldIn } from './nodeos-world.js';

const [dir, pidFile] = process.argv.slice(2) as [string, string];
const world = await createWorldIn(dir);
const snap = await world.putSnapshot(100);
// A slower fake can be asked for: an orphaned fake dies of EPIPE at its next log line, ending the orphan a leftover test needs.
const runner = world.runner({ env: { FAKE_NODEOS_BPS: process.env.FAKE_NODEOS_BPS ?? '100', FAKE_NODEOS_PID_FILE: pidFile } });
process.stdout.write(`runner ${process.pid} ${join(dir, 'data')}\n`);
await world.run(runner, world.item(100, 1_000_000, snap));
