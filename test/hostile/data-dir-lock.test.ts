import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { itemId, runKeys } from '../../src/layout/keys.js';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { publishManifest } from '../../src/manifest/publish.js';
import { decodeNodeRecord } from '../../src/records/node-record.js';
import { LOCK_FILE, type LockOwner } from '../../src/runner/nodeos/data-dir-lock.js';
import { createFileStore } from '../../src/store/file.js';
import { getIfExists } from '../../src/store/get-if-exists.js';
import { overwrite } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { NodeProcess } from '../node/support/node-process.js';
import { CHAIN, FAKE_NODEOS } from '../runner/support/nodeos-world.js';
import { runBuiltCli } from '../support/cli.js';
import { wallDate } from '../support/wall-clock.js';

/**
 * Issue 19: two `replay-node join` with the same --node and --data-dir ran
 * side by side without a word. The data directory's lock (DataDirLock,
 * taken first thing in join) makes the second refuse before it touches the
 * store or the directory, naming the first by pid and host; a lock left by
 * a killed node is taken over. Real processes, real file store.
 */
let dir: string;
let store: string;
const started: NodeProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'data-dir-lock-'));
  store = join(dir, 'store');
  const spacing = join(dir, 'spacing.tsv');
  await writeFile(spacing, Array.from({ length: 4 }, (_, i) => `${i * 100}\t${(i + 1) * 100}\t100\n`).join(''));
  const published = await runBuiltCli('replay-manifest', ['publish', '--store', `file://${store}`, '--run', 'r', '--spacing', spacing, '--lease-ttl-ms', '5000']);
  expect(published.exitCode, published.stderr).toBe(0);
});
afterEach(() => {
  for (const node of started.splice(0)) node.signal('SIGKILL');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A node that works slowly (10 blocks/s: 10 s an item), so it is surely running while the second starts. */
function slowNode(dataDir: string): NodeProcess {
  const node = new NodeProcess('same', ['--store', `file://${store}`, '--run', 'r', '--runner', 'sim', '--sim-speed', '10', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0']);
  started.push(node);
  return node;
}

const second = (dataDir: string) => runBuiltCli('replay-node', [
  'join', '--store', `file://${store}`, '--run', 'r', '--node', 'same', '--runner', 'sim', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0',
]);

describe('two replay-node join on one data directory', () => {
  it('the second refuses at once, naming the first (pid, host), and touches neither the store nor the gossip key', async () => {
    const dataDir = join(dir, 'shared');
    const first = slowNode(dataDir);
    await first.claimed();
    const record = async () => decodeNodeRecord(runKeys('r').node('same'), (await getIfExists(createFileStore(store, { clock: systemClock }), runKeys('r').node('same')))!.body);
    const before = await record();
    const key = await readFile(join(dataDir, 'gossip-identity.key'));
    const lock = JSON.parse(await readFile(join(dataDir, LOCK_FILE), 'utf8')) as LockOwner;
    expect([lock.pid, lock.hostname]).toEqual([first.pid, hostname()]);

    const refused = await second(dataDir);
    expect([refused.exitCode, refused.stderr]).toEqual([2,
      `replay-node: the data directory ${dataDir} is in use by replay-node pid ${first.pid} on host ${hostname()} (since ${lock.startedAt}); stop it or give this node another --data-dir`]);
    expect((await record()).pid).toBe(before.pid); // the first's record was not overwritten by the second
    expect(await readFile(join(dataDir, 'gossip-identity.key'))).toEqual(key);
    expect(first.exitedAt).toBeUndefined();

    // A graceful stop frees it: the next one starts.
    first.signal('SIGTERM');
    expect((await first.exited).code).toBe(0);
    await expect(readFile(join(dataDir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
    const next = slowNode(dataDir);
    await next.claimed();
  });

  it('a lock left by a SIGKILLed node is taken over, with one warning naming the dead one', async () => {
    const dataDir = join(dir, 'killed');
    const first = slowNode(dataDir);
    await first.claimed();
    first.signal('SIGKILL');
    await first.exited;
    const next = slowNode(dataDir);
    await next.claimed();
    const warnings = next.logs.filter((l) => l.msg.startsWith(`took over the lock of the data directory ${dataDir}: `));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(`replay-node pid ${first.pid}`);
  });

  it('with the nodeos runner, join\'s lock is the runner\'s: no second lock, no refusal of itself, released at exit', async () => {
    const nodeosStore = join(dir, 'nodeos-store');
    const files = createFileStore(nodeosStore, { clock: systemClock });
    await files.put('snapshots/genesis.json', JSON.stringify({ chain_id: CHAIN, initial_timestamp: '2018-06-08T08:08:08.888' }), overwrite);
    await publishManifest(files, buildManifest({
      run: 'n', createdAt: wallDate().toISOString(), intervals: [{ start: 0, end: 100 }], chainId: CHAIN, defaults: { leaseTtlMs: 10_000, minFreeDiskBytes: 1 },
    }));
    const dataDir = join(dir, 'nodeos');
    const node = new NodeProcess('x1', ['--store', `file://${nodeosStore}`, '--run', 'n', '--runner', 'nodeos', '--nodeos-bin', FAKE_NODEOS, '--data-dir', dataDir, '--no-gossip', '--exit-when-done'], {
      REPLAY_NODEOS_ENV_FAKE_NODEOS_BPS: '2000',
    });
    started.push(node);
    expect((await node.exited).code, node.tail()).toBe(0);
    expect(node.logs.some((l) => l.msg.startsWith('took over the lock'))).toBe(false);
    await expect(readFile(join(dataDir, LOCK_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await getIfExists(files, runKeys('n').result(itemId({ start: 0, end: 100 })))).toBeDefined();
  });

  it('a second join with the nodeos runner is refused the same way, before its runner prepares', async () => {
    const dataDir = join(dir, 'runner');
    const first = slowNode(dataDir);
    await first.claimed();
    const refused = await runBuiltCli('replay-node', ['join', '--store', `file://${store}`, '--run', 'r', '--node', 'same', '--runner', 'nodeos', '--nodeos-bin', '/bin/false', '--data-dir', dataDir, '--no-gossip']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`is in use by replay-node pid ${first.pid} on host ${hostname()}`);
  });
});
