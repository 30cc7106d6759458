/**
 * One gossip member as a real process, for the multi-process gossip tests
 * and bench: `node --import tsx member-driver.ts '<json config>'`.
 *
 * Membership comes from a shared directory of member records (the stand-in
 * for the run's node records in the store): this process writes its own
 * record there once listening and re-reads the directory every 200 ms.
 * Commands arrive as JSON lines on stdin; what happens goes out as JSON
 * lines on stdout.
 */
import '../../../src/util/promise-shim.js';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGossip } from '../../../src/gossip/libp2p-gossip.js';
import type { MemberRecord } from '../../../src/gossip/membership.js';
import type { EventUpdate, ProgressUpdate } from '../../../src/gossip/messages.js';
import { readSwarmKey } from '../../../src/gossip/swarm-key.js';
import type { GossipTuning } from '../../../src/gossip/gossip-options.js';
import { systemClock } from '../../../src/time/system-clock.js';
import { systemIds } from '../../../src/util/ids.js';
import { createLogger } from '../../../src/util/logger.js';
import { wallInterval, wallMonotonic } from '../../support/wall-clock.js';

export interface DriverConfig {
  run: string;
  node: string;
  dataDir: string;
  /** Directory this member writes its record to (`<node>.json`: MemberRecord). */
  membersDir: string;
  /** Directories of member records this member reads; default [membersDir]. */
  readDirs?: string[];
  /** Do not write our own record (a stranger). */
  unlisted?: boolean;
  swarmKeyFile?: string;
  listen?: string[];
  tuning?: Partial<GossipTuning>;
}

export type DriverCommand =
  | { cmd: 'progress'; progress: ProgressUpdate }
  | { cmd: 'event'; event: EventUpdate }
  | { cmd: 'counters' }
  | { cmd: 'usage' }
  | { cmd: 'stop' };

const config = JSON.parse(process.argv[2] ?? '{}') as DriverConfig;
const out = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

const gossip = await createGossip({
  run: config.run,
  node: config.node,
  dataDir: config.dataDir,
  listen: config.listen ?? ['/ip4/127.0.0.1/tcp/0'],
  swarmKey: config.swarmKeyFile ? await readSwarmKey(config.swarmKeyFile) : undefined,
  clock: systemClock,
  ids: systemIds,
  logger: createLogger({ name: config.node, level: process.env.LOG_LEVEL ?? 'warn' }),
  tuning: config.tuning,
});
gossip.onMessage((received) => out({ ev: 'message', at: systemClock.now(), ...received }));
await gossip.start();

async function readMembers(): Promise<MemberRecord[]> {
  const records: MemberRecord[] = [];
  for (const dir of config.readDirs ?? [config.membersDir]) {
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.json')) continue;
      try {
        records.push(JSON.parse(await readFile(join(dir, name), 'utf8')) as MemberRecord);
      } catch {
        // a record being replaced right now; the next poll reads it
      }
    }
  }
  return records;
}

if (!config.unlisted) {
  const record: MemberRecord = { node: config.node, peerId: gossip.peerId, addrs: gossip.addresses() };
  const path = join(config.membersDir, `${config.node}.json`);
  await writeFile(`${path}.tmp`, JSON.stringify(record));
  await rename(`${path}.tmp`, path);
}
gossip.setMembers(await readMembers());
const poll = wallInterval(() => {
  void readMembers().then((records) => gossip.setMembers(records));
}, 200);
out({ ev: 'ready', peerId: gossip.peerId, addrs: gossip.addresses() });

async function shutdown(): Promise<void> {
  clearInterval(poll);
  await gossip.stop();
  out({ ev: 'stopped', counters: gossip.counters() });
  process.exit(0);
}

process.on('SIGTERM', () => void shutdown());
for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as DriverCommand;
  if (command.cmd === 'progress') gossip.publishProgress(command.progress);
  else if (command.cmd === 'event') gossip.publishEvent(command.event);
  else if (command.cmd === 'counters') out({ ev: 'counters', counters: gossip.counters() });
  else if (command.cmd === 'usage') {
    const cpu = process.cpuUsage();
    out({ ev: 'usage', rssBytes: process.memoryUsage().rss, cpuMicros: cpu.user + cpu.system, atMs: wallMonotonic() });
  }
  else if (command.cmd === 'stop') await shutdown();
}
