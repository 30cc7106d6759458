import type { RunnerProgress, WorkItem } from '../runner.js';
import { HashLines, snapshotRefused } from './hashes.js';
import type { ChainInfo } from './http.js';
import type { NodeosExit } from './process.js';
import { ProgressMonitor } from './progress.js';
import { failure, startNodeos, whenAborted, type NodeosSession } from './session.js';

/**
 * The replay itself: `nodeos --snapshot S (or --genesis-json G)
 * --terminate-at-block END --integrity-hash-on-start --integrity-hash-on-stop`,
 * watched until it exits, stalls, or the attempt is aborted.
 */
export interface ReplayInput {
  snapshotPath?: string;
  genesisPath?: string;
}

export interface ReplayOutcome {
  hashes: HashLines;
  /** The last get_info answer before exit. */
  lastInfo: ChainInfo | undefined;
  exit: NodeosExit;
  /** Monotonic times: spawned, up (start hash logged or first answer), exited. */
  spawnedAt: number;
  upAt: number;
  exitedAt: number;
}

type Ending = { kind: 'exit'; exit: NodeosExit } | { kind: 'stall'; headBlock: number | undefined; silentMs: number } | { kind: 'abort' };

export async function runReplay(session: NodeosSession, item: WorkItem, input: ReplayInput, signal: AbortSignal, onProgress: (p: RunnerProgress) => void): Promise<ReplayOutcome> {
  const { clock, options } = session;
  const hashes = new HashLines();
  let startHashAt: number | undefined;
  session.log.onLine((line) => {
    const had = hashes.startHash;
    hashes.read(line);
    if (!had && hashes.startHash) startHashAt = clock.monotonic();
  });
  const source = input.snapshotPath ? ['--snapshot', input.snapshotPath] : ['--genesis-json', input.genesisPath!];
  const args = [...source, '--terminate-at-block', String(item.end), '--integrity-hash-on-start', '--integrity-hash-on-stop'];
  const spawnedAt = clock.monotonic();
  const { process, baseUrl } = await startNodeos(session, args, false);

  const monitor = new ProgressMonitor({
    baseUrl, start: item.start, end: item.end, clock, onProgress,
    intervalMs: options.progressIntervalMs,
    stallTimeoutMs: options.stallTimeoutMs,
  });
  const watching = new AbortController();
  const endings: Promise<Ending>[] = [
    process.exited.then((exit) => ({ kind: 'exit', exit })),
    monitor.watch(watching.signal).then(
      (stall) => ({ kind: 'stall', ...stall }),
      () => new Promise<never>(() => {}),
    ),
    whenAborted(signal).then(() => ({ kind: 'abort' })),
  ];
  const ending = await Promise.race(endings);
  watching.abort();

  if (ending.kind === 'abort') {
    await process.stop(options.killGraceMs, 'attempt aborted');
    throw signal.reason;
  }
  if (ending.kind === 'stall') {
    const exit = await process.stop(options.killGraceMs, 'stalled');
    const at = ending.headBlock === undefined ? 'before answering get_info' : `at block ${ending.headBlock}`;
    throw failure(session, 'stalled', `nodeos made no progress ${at} for ${Math.round(ending.silentMs / 1000)} s`, exit);
  }
  const { exit } = ending;
  if (exit.spawnError) throw failure(session, 'spawn-failed', `cannot start ${session.bin}`, exit);
  if (exit.exitCode !== 0 || exit.signal) {
    if (monitor.firstAnswerAt === undefined && snapshotRefused(session.log.lastLines())) {
      throw failure(session, 'corrupt-snapshot', 'nodeos refused the snapshot', exit);
    }
    const at = monitor.lastInfo ? ` after block ${monitor.lastInfo.head_block_num}` : '';
    throw failure(session, 'crashed', `nodeos failed${at}`, exit);
  }
  const exitedAt = clock.monotonic();
  return {
    hashes,
    lastInfo: monitor.lastInfo,
    exit,
    spawnedAt,
    upAt: Math.min(startHashAt ?? exitedAt, monitor.firstAnswerAt ?? exitedAt),
    exitedAt,
  };
}
