import { describe, expect, it } from 'vitest';
import { exitVerdict } from '../../src/runner/nodeos/exit-reason.js';
import { NodeosLogReader } from '../../src/runner/nodeos/log-reader.js';
import { nodeosException, nodeosLine } from './support/nodeos-lines.js';

/** What the runner reads from nodeos's lines, on the real messages (spring file:line in src). */
const ID_600 = '00000258' + 'ab'.repeat(28);
const ROOT_598 = '00000256' + 'cd'.repeat(28);

function read(lines: string[]): NodeosLogReader {
  const reader = new NodeosLogReader();
  for (const line of lines) reader.read(line);
  return reader;
}

describe('nodeos log reader', () => {
  it('follows a replay: loaded, start hash, received blocks, END reached, stop hash, fork db ids', () => {
    const reader = read([
      nodeosLine('info', 'controller.cpp:1969', 'startup', 'Starting initialization from snapshot and no block log, this may take a significant amount of time'),
      nodeosLine('info', 'controller.cpp:1978', 'startup', `Snapshot loaded, head: 100 : ${'00000064' + 'ef'.repeat(28)}`),
      nodeosLine('info', 'controller.cpp:2000', 'startup', 'chain database started with hash: ABCDEF0123456789abcdef'),
    ]);
    expect(reader).toMatchObject({ startHash: 'abcdef0123456789abcdef', chainUp: true, headBlock: 100, endReachedAt: undefined });
    reader.read(nodeosLine('info', 'controller.cpp:3636', 'log_applied', `Received block ${ID_600.slice(8, 24)}... #600 @ 2018-06-09T00:05:00.000 signed by eosio [trxs: 0, lib: 599, net: 0, cpu: 0 us, elapsed: 0 us, applying time: 0 us, latency: 1 ms]`));
    expect(reader.headBlock).toBe(600);
    expect(reader.blockIdPrefix(600)).toBe(ID_600.slice(0, 24));
    expect(reader.blockId(600)).toBeUndefined();
    reader.read(nodeosLine('info', 'controller.cpp:5101', 'should_terminate', 'Block 600 reached configured maximum block 600; terminating'));
    reader.read(nodeosLine('info', 'controller.cpp:2168', '~controller_impl', 'chain database stopped with hash: 0123456789abcdef0123'));
    reader.read(nodeosLine('info', 'fork_database.cpp:171', 'close_impl', `Writing fork_database 2 blocks with root 598:${ROOT_598} and head 600:${ID_600}`));
    expect(reader).toMatchObject({ endReachedAt: 600, stopHash: '0123456789abcdef0123' });
    expect(reader.blockId(600)).toBe(ID_600);
    expect(reader.blockId(598)).toBe(ROOT_598);
  });

  it('reads the block-log replay lines (before HTTP is up) as progress, and ignores our own notes', () => {
    const reader = read([
      '[replay-node] starting nodeos --snapshot /x/Block 9 reached configured maximum block 9; terminating',
      nodeosLine('info', 'controller.cpp:1789', 'replay_block_log', '500 of 1500'),
      nodeosLine('info', 'controller.cpp:1789', 'replay_block_log', '1000 of 1500'),
    ]);
    expect(reader.headBlock).toBe(1000);
    expect(reader.endReachedAt).toBeUndefined();
    expect(reader.lines).toBe(2);
    reader.read(nodeosLine('info', 'fork_database.cpp:173', 'close_impl', `Writing empty fork_database with root 600:${ID_600}`));
    expect(reader.blockId(600)).toBe(ID_600);
  });
});

describe('why nodeos exited', () => {
  const exit254 = { exitCode: 254, signal: null };
  const refusals: [string, string[]][] = [
    ['bad magic', nodeosException(3570000, 'snapshot_exception', 'Snapshot exception', 'Binary snapshot has unexpected magic number!')],
    ['binary version', nodeosException(3570000, 'snapshot_exception', 'Snapshot exception', 'Binary snapshot is an unsupported version.  Expected : 1, Got: 7')],
    ['chain snapshot version', nodeosException(3570001, 'snapshot_validation_exception', 'Snapshot Validation Exception', 'Unsupported version of chain snapshot: 9. Supported version must be between 2 and 8 inclusive.')],
    ['truncated', nodeosException(3000000, 'out_of_range_exception', 'Out of Range', 'read datastream of length 12 over by 4')],
    ['head at 0', nodeosException(3570000, 'snapshot_exception', 'Snapshot exception', 'Snapshot indicates controller head at block number 0, but that is not allowed. Snapshot is invalid.')],
  ];
  for (const [what, lines] of refusals) {
    it(`a snapshot refused (${what}) is corrupt-snapshot, naming nodeos's message`, () => {
      const verdict = exitVerdict(exit254, ['[replay-node] starting nodeos', ...lines], true, false);
      expect(verdict.reason).toBe('corrupt-snapshot');
      expect(verdict.message).toContain(lines[1]!);
    });
  }

  it('nothing else is corrupt-snapshot: other refusals, a non-empty database, a cache file named with "bad", a genesis start, a crash', () => {
    const badName = nodeosLine('info', 'main.cpp:120', 'log_non_default_options', 'Non-default options: --snapshot /cache/snapshots/0badc0ffee.bin --terminate-at-block 600');
    const terminate = nodeosException(3100002, 'plugin_config_exception', 'Incorrect plugin configuration', '--terminate-at-block 50 not greater than chain head 100');
    expect(exitVerdict(exit254, [badName, ...terminate], true, false)).toEqual({
      reason: 'nodeos-refused',
      message: 'nodeos refused to start: 3100002 plugin_config_exception: Incorrect plugin configuration: --terminate-at-block 50 not greater than chain head 100',
    });
    const notEmpty = nodeosException(3100002, 'plugin_config_exception', 'Incorrect plugin configuration', 'Snapshot can only be used to initialize an empty database, remove directory: /d/state');
    expect(exitVerdict(exit254, notEmpty, true, false).reason).toBe('nodeos-refused');
    expect(exitVerdict(exit254, refusals[0]![1], false, false).reason).toBe('nodeos-refused');
    expect(exitVerdict(exit254, refusals[0]![1], true, true).reason).toBe('crashed');
    expect(exitVerdict({ exitCode: 134, signal: null }, refusals[0]![1], true, false).reason).toBe('crashed');
    expect(exitVerdict({ exitCode: null, signal: 'SIGSEGV' }, [], true, true).reason).toBe('crashed');
  });

  it('names the other exit codes of main.cpp: 255 initialize failed, 2 dirty database, 1 bad alloc', () => {
    expect(exitVerdict({ exitCode: 255, signal: null }, [], true, false).reason).toBe('nodeos-refused');
    expect(exitVerdict({ exitCode: 2, signal: null }, [nodeosLine('error', 'main.cpp:222', 'main', 'database dirty flag set (likely due to unclean shutdown): replay required')], false, true).reason).toBe('dirty-database');
    expect(exitVerdict({ exitCode: 1, signal: null }, [nodeosLine('error', 'main.cpp:233', 'main', 'bad alloc')], false, true).message).toMatch(/chain-state-db-size-mb/);
  });
});
