/**
 * Starts a throwaway RGW (test/support/rgw.ts), prints its endpoint and data
 * directory as one JSON line, and waits to be killed: the cleanup test kills
 * it with SIGKILL, so no stop() runs and only the guardian can clean up.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startRgw } from '../support/rgw.js';

const rgw = await startRgw((line) => process.stderr.write(`${line}\n`));
const run = join(rgw.dataDir, 'run');
const pids = await Promise.all((await readdir(run)).filter((f) => f.endsWith('.pid')).map(async (f) => Number(await readFile(join(run, f), 'utf8'))));
process.stdout.write(`${JSON.stringify({ endpoint: rgw.endpoint, dataDir: rgw.dataDir, pids })}\n`);
process.stdin.resume(); // until killed
