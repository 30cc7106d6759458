import { describe, expect, it } from 'vitest';
import type { ChainInfo } from '../../src/runner/nodeos/http.js';
import { NodeosLogReader } from '../../src/runner/nodeos/log-reader.js';
import { PhaseWatch, type PhaseWatchOptions } from '../../src/runner/nodeos/phase-watch.js';
import type { RunnerProgress } from '../../src/runner/runner.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { nodeosLine } from './support/nodeos-lines.js';

/**
 * The replay watchdog on the manual clock: each phase judged by what moves
 * in it. Mainnet-sized silences (a 40 min snapshot load, a 6 min stop hash)
 * under a 20 min stall setting must pass; a stuck head must not.
 */
const MIN = 60_000;

function setup(overrides: Partial<PhaseWatchOptions> = {}) {
  const clock = new ManualClock();
  const log = new NodeosLogReader();
  const progress: RunnerProgress[] = [];
  const watch = new PhaseWatch({
    baseUrl: 'http://127.0.0.1:1', start: 100, end: 600, chainId: 'aca376f2',
    intervalMs: 5_000, stallTimeoutMs: 20 * MIN, loadTimeoutMs: 2 * 60 * MIN, stopHashTimeoutMs: 60 * MIN,
    clock, log, onProgress: (p) => progress.push(p),
    ...overrides,
  });
  let now = 0;
  const at = (minutes: number, info?: Partial<ChainInfo>, lines: string[] = []) => {
    now = minutes * MIN;
    for (const line of lines) log.read(line);
    return watch.observe(now, info ? ({ head_block_num: 0, head_block_id: '', chain_id: 'aca376f2', ...info } as ChainInfo) : undefined);
  };
  return { watch, log, progress, at };
}

const startHash = nodeosLine('info', 'controller.cpp:2000', 'startup', 'chain database started with hash: 00112233445566778899');
const endReached = nodeosLine('info', 'controller.cpp:5101', 'should_terminate', 'Block 600 reached configured maximum block 600; terminating');

describe('phase watch', () => {
  it('a 40 min silent snapshot load and a 6 min stop hash pass under a 20 min stall setting', () => {
    const { watch, progress, at } = setup();
    expect(at(39)).toBeUndefined();
    expect(watch.phase).toBe('loading');
    expect(at(40, undefined, [startHash])).toBeUndefined();
    expect(watch.phase).toBe('replaying');
    expect(at(41, { head_block_num: 200 })).toBeUndefined();
    expect(at(50, { head_block_num: 599 })).toBeUndefined();
    expect(at(50.1, undefined, [endReached])).toBeUndefined();
    expect(watch.phase).toBe('hashing');
    // HTTP is closed while nodeos hashes: nothing answers, nothing is logged.
    expect(at(56.1)).toBeUndefined();
    expect(at(50.1 + 59)).toBeUndefined();
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['loading', 'replaying', 'hashing']));
    const replaying = progress.filter((p) => p.phase === 'replaying');
    expect(replaying.at(-1)).toMatchObject({ headBlock: 599 });
    expect(replaying.at(-1)!.blocksPerSecond).toBeGreaterThan(0);
  });

  it('replaying: a head that does not move for the stall timeout is stalled, wherever the head came from', () => {
    const { at } = setup();
    at(1, undefined, [startHash]);
    at(2, undefined, [nodeosLine('info', 'controller.cpp:1789', 'replay_block_log', '500 of 600')]);
    // Log output without head progress does not count while replaying.
    expect(at(21, { head_block_num: 500 }, [nodeosLine('warn', 'net_plugin.cpp:300', 'sync', 'no peers')])).toBeUndefined();
    expect(at(22, { head_block_num: 500 })).toMatchObject({ reason: 'stalled', message: expect.stringContaining('at block 500 for 20 min') });
  });

  it('loading and hashing have their own bounds, counted from the last log line', () => {
    const loading = setup();
    expect(loading.at(100, undefined, [nodeosLine('info', 'controller.cpp:1969', 'startup', 'Starting initialization from snapshot')])).toBeUndefined();
    expect(loading.at(219)).toBeUndefined();
    expect(loading.at(220)).toMatchObject({ reason: 'load-timeout' });

    const hashing = setup();
    hashing.at(1, undefined, [startHash]);
    hashing.at(2, undefined, [endReached]);
    expect(hashing.at(61)).toBeUndefined();
    expect(hashing.at(62)).toMatchObject({ reason: 'hash-timeout', message: expect.stringContaining('block 600') });
  });

  it('a get_info head at END also enters hashing (a poll may see END before the line)', () => {
    const { watch, at } = setup();
    at(1, { head_block_num: 300 });
    at(2, { head_block_num: 600 });
    expect(watch.phase).toBe('hashing');
    expect(at(30)).toBeUndefined();
  });

  it('a chain id other than the manifest\'s fails at once, naming both', () => {
    const { at } = setup();
    expect(at(1, { head_block_num: 150, chain_id: 'ffff0000' })).toEqual({
      reason: 'chain-id-mismatch',
      message: expect.stringMatching(/reports chain id ffff0000, the manifest says aca376f2/),
    });
    const caseOnly = setup();
    expect(caseOnly.at(1, { head_block_num: 150, chain_id: 'ACA376F2' })).toBeUndefined();
  });
});
