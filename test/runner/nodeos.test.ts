import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simBlockId, simIntegrityHash } from '../../src/runner/sim-chain.js';
import { overwrite } from '../../src/store/store.js';
import { alive, CHAIN, createWorld, failureOf, fakeSnapshot, sha256, zstdCompress, type World } from './support/nodeos-world.js';

/** The nodeos runner end to end against the fake nodeos: real processes, real signals, real zstd. */
let world: World;
beforeEach(async () => {
  world = await createWorld();
});
afterEach(async () => {
  await world.cleanup();
});


describe('nodeos runner against the fake nodeos', () => {
  it('replays two consecutive items whose hashes chain, reporting progress, reusing the cached snapshot', async () => {
    const s100 = await world.putSnapshot(100);
    const s600 = await world.putSnapshot(600);
    const runner = world.runner({ env: { FAKE_NODEOS_BPS: '1000' } });
    await runner.prepare();
    const first = await world.run(runner, world.item(100, 600, s100));
    const second = await world.run(runner, world.item(600, 1100, s600));

    expect(first.result).toMatchObject({
      startHash: simIntegrityHash(CHAIN, 100),
      endHash: simIntegrityHash(CHAIN, 600),
      headBlock: 600,
      headBlockId: simBlockId(CHAIN, 600),
      runner: 'nodeos',
      nodeosVersion: 'v5.0.2',
    });
    expect(second.result.startHash).toBe(first.result.endHash);
    expect(second.result.endHash).toBe(simIntegrityHash(CHAIN, 1100));
    const heads = first.progress.map((p) => p.headBlock);
    expect(heads.length).toBeGreaterThan(2);
    expect(heads).toEqual([...heads].sort((a, b) => a - b));
    expect(heads.at(-1)).toBe(600);
    expect(first.progress.some((p) => (p.blocksPerSecond ?? 0) > 0)).toBe(true);
    for (const key of ['fetch', 'start', 'replay', 'hash']) expect(first.result.timings[key]).toBeGreaterThanOrEqual(0);

    // The state directory went away, the log stayed, with the hash lines in it.
    const itemDir = join(world.dataDir, 'items', world.item(100, 600, null).itemId);
    expect(await readdir(itemDir)).not.toContain('data');
    expect(await world.itemLog(world.item(100, 600, null))).toContain(`chain database stopped with hash: ${simIntegrityHash(CHAIN, 600)}`);

    // A retry of the same interval does not download the snapshot again.
    const streamsBefore = world.store.counters.getStream;
    const again = await world.run(runner, world.item(100, 600, s100));
    expect(again.result.endHash).toBe(first.result.endHash);
    expect(world.store.counters.getStream).toBe(streamsBefore);
  });

  it('a crash fails the attempt with the exit code and the log tail', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ env: { FAKE_NODEOS_CRASH_AT: '300' } });
    const failure = await failureOf(world.run(runner, world.item(100, 600, snap)));
    expect(failure.reason).toBe('crashed');
    expect(failure.details.exitCode).toBe(134);
    expect(failure.details.logTail?.join('\n')).toContain('fatal error applying block 300');
    expect(failure.details.logTail?.length).toBeLessThanOrEqual(200);
  });

  it('a crash by signal is recorded with the signal', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ env: { FAKE_NODEOS_CRASH_AT: '300', FAKE_NODEOS_CRASH_SIGNAL: 'SIGABRT' } });
    const failure = await failureOf(world.run(runner, world.item(100, 600, snap)));
    expect(failure.details).toMatchObject({ exitCode: null, signal: 'SIGABRT' });
  });

  it('a hang trips the stall watchdog, which kills nodeos', async () => {
    const snap = await world.putSnapshot(100);
    const pidFile = join(world.dir, 'nodeos.pid');
    const runner = world.runner({ stallTimeoutMs: 800, env: { FAKE_NODEOS_HANG_AT: '300', FAKE_NODEOS_PID_FILE: pidFile } });
    const failure = await failureOf(world.run(runner, world.item(100, 600, snap)));
    expect(failure.reason).toBe('stalled');
    expect(failure.message).toContain('at block 300');
    expect(failure.details.signal ?? failure.details.exitCode).not.toBeUndefined();
    expect(alive(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('abort sends SIGINT, then SIGKILL after the grace period, and leaves no process behind', async () => {
    const snap = await world.putSnapshot(100);
    const pidFile = join(world.dir, 'nodeos.pid');
    const runner = world.runner({ killGraceMs: 500, env: { FAKE_NODEOS_BPS: '200', FAKE_NODEOS_IGNORE_SIGINT: '1', FAKE_NODEOS_PID_FILE: pidFile } });
    const controller = new AbortController();
    const reason = new Error('lease lost');
    // Abort once nodeos is visibly replaying.
    const running = world.run(runner, world.item(100, 100_000, snap), controller.signal, (p) => p.phase === 'replaying' && controller.abort(reason))
      .then(() => undefined, (e: unknown) => e);
    expect(await running).toBe(reason);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(alive(pid)).toBe(false);
    const log = await world.itemLog(world.item(100, 100_000, null));
    expect(log).toContain('ignoring SIGINT');
    expect(log).toMatch(/SIGKILL/);
    expect(log).toContain('nodeos exited: killed by SIGKILL');
  });

  it('abort of a well-behaved nodeos stops it with SIGINT alone', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ killGraceMs: 5_000, env: { FAKE_NODEOS_BPS: '200' } });
    const controller = new AbortController();
    const running = world.run(runner, world.item(100, 100_000, snap), controller.signal, (p) => p.phase === 'replaying' && controller.abort(new Error('stop')))
      .then(() => undefined, (e: unknown) => e);
    expect((await running as Error).message).toBe('stop');
    const log = await world.itemLog(world.item(100, 100_000, null));
    expect(log).toContain('appbase quit called');
    expect(log).toContain('nodeos exited: exit code 0');
  });

  it('a wrong hash flows through unchanged', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ env: { FAKE_NODEOS_WRONG_HASH: '600' } });
    const { result } = await world.run(runner, world.item(100, 600, snap));
    expect(result.startHash).toBe(simIntegrityHash(CHAIN, 100));
    expect(result.endHash).toBe(sha256(`wrong:${CHAIN}:600:fake-nodeos`));
    expect(result.endHash).not.toBe(simIntegrityHash(CHAIN, 600));
  });

  it('without the stop-hash line, restarts nodeos read-only and asks get_integrity_hash', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ env: { FAKE_NODEOS_NO_STOP_HASH: '1', FAKE_NODEOS_HASH_DELAY_MS: '300' } });
    const item = world.item(100, 600, snap);
    const { result } = await world.run(runner, item);
    expect(result.endHash).toBe(simIntegrityHash(CHAIN, 600));
    expect(result.headBlockId).toBe(simBlockId(CHAIN, 600));
    expect(result.timings.hash).toBeGreaterThanOrEqual(300);
    const log = await world.itemLog(item);
    expect(log).not.toContain('chain database stopped with hash');
    expect(log).toContain('Blockchain started; head block is #600');
    expect(log.match(/\[replay-node\] starting /g)).toHaveLength(2);
    const config = await readFile(join(world.dataDir, 'items', item.itemId, 'config', 'config.ini'), 'utf8');
    expect(config).toMatch(/^read-mode = head$/m);
    expect(config).not.toMatch(/p2p-peer-address/);
  });

  it('a get_integrity_hash that outlasts its timeout fails the attempt as hash-unavailable', async () => {
    const snap = await world.putSnapshot(100);
    const runner = world.runner({ hashTimeoutMs: 300, env: { FAKE_NODEOS_NO_STOP_HASH: '1', FAKE_NODEOS_HASH_DELAY_MS: '5000' } });
    const failure = await failureOf(world.run(runner, world.item(100, 600, snap)));
    expect(failure.reason).toBe('hash-unavailable');
    expect(failure.message).toMatch(/timed out/);
  });

  it('corrupt or truncated .zst archives, a sha256 mismatch and a snapshot nodeos refuses are corrupt-snapshot failures', async () => {
    const runner = world.runner();
    const garbage = await world.putSnapshot(100, { body: Buffer.from('this is not zstd at all') });
    const good = await zstdCompress(fakeSnapshot(100, CHAIN, 1 << 20));
    const truncated = await world.putSnapshot(200, { body: good.subarray(0, good.length - 100) });
    const fine = await world.putSnapshot(300);
    const notASnapshot = await world.putSnapshot(400, { body: await zstdCompress(Buffer.from('random bytes\n')) });

    expect((await failureOf(world.run(runner, world.item(100, 600, garbage)))).reason).toBe('corrupt-snapshot');
    const cut = await failureOf(world.run(runner, world.item(200, 600, truncated)));
    expect(cut.reason).toBe('corrupt-snapshot');
    const mismatch = await failureOf(world.run(runner, world.item(300, 600, { key: fine.key, sha256: 'ab'.repeat(32) })));
    expect(mismatch.reason).toBe('corrupt-snapshot');
    expect(mismatch.message).toContain('sha256');
    const refused = await failureOf(world.run(runner, world.item(400, 600, notASnapshot)));
    expect(refused.reason).toBe('corrupt-snapshot');
    expect(refused.details.exitCode).toBe(254);
    // Nothing half-written or refused stays in the cache to be picked up next time.
    const cached = await readdir(join(world.dataDir, 'cache', 'snapshots'));
    expect(cached.filter((name) => name.endsWith('.bin'))).toEqual([]);
  });

  it('an uncompressed snapshot is used as is; genesis items use the store genesis.json', async () => {
    const plain = await world.putSnapshot(100, { zst: false });
    await world.store.put('snapshots/genesis.json', JSON.stringify({ chain_id: CHAIN, initial_timestamp: '2018-06-08T08:08:08.888' }), overwrite);
    const runner = world.runner();
    const a = await world.run(runner, world.item(100, 300, plain));
    expect(a.result.endHash).toBe(simIntegrityHash(CHAIN, 300));
    const g = await world.run(runner, world.item(0, 100, null));
    expect(g.result.startHash).toBe(simIntegrityHash(CHAIN, 0));
    expect(g.result.endHash).toBe(a.result.startHash);
  });

  it('fetches the block-log stride file covering the start block when asked', async () => {
    const snap = await world.putSnapshot(100);
    await world.store.put('blocks/blocks-1-99.log', 'old', overwrite);
    await world.store.put('blocks/blocks-100-199.log.zst', await zstdCompress(Buffer.from('x'.repeat(1000))), overwrite);
    await world.store.put('blocks/blocks-100-199.index.zst', await zstdCompress(Buffer.from('i'.repeat(16))), overwrite);
    const runner = world.runner({ blockLogs: true });
    const item = world.item(100, 300, snap);
    await world.run(runner, item);
    const log = await world.itemLog(item);
    expect(log).toContain('retained block file blocks-100-199.index (16 bytes)');
    expect(log).toContain('retained block file blocks-100-199.log (1000 bytes)');
    expect(log).not.toContain('blocks-1-99');
  });
});
