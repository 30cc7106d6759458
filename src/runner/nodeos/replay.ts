import type { RunnerProgress, WorkItem } from '../runner.js';
import { exitVerdict } from './exit-reason.js';
import type { ChainInfo } from './http.js';
import { NodeosLogReader } from './log-reader.js';
import { PhaseWatch } from './phase-watch.js';
import type { NodeosExit } from './process.js';
import { failure, startNodeos, whenAborted, type NodeosSession } from './session.js';

/**
 * The replay itself: `nodeos --snapshot S (or --genesis-json G)
 * --terminate-at-block END --truncate-at-block END --integrity-hash-on-start
 * --integrity-hash-on-stop`, watched phase by phase until it exits, a phase
 * overruns, or the attempt is aborted. `--truncate-at-block` drops blocks
 * received from peers past END from the fork database on exit
 * (controller.cpp ~controller_impl); without it a later start on this state
 * (the read-only restart) would apply them and move the head past END.
 */
export interface ReplayInput {
  snapshotPath?: string;
  genesisPath?: string;
}

export interface ReplayOutcome {
  log: NodeosLogReader;
  /** nodeos said it reached END and exited 0: the state on disk is END's. */
  reachedEnd: boolean;
  /** The last get_info answer before exit. */
  lastInfo: ChainInfo | undefined;
  exit: NodeosExit;
  /** Monotonic times: spawned, replaying (loaded, start hash logged), END reached (hashing), exited. */
  spawnedAt: number;
  upAt: number;
  endAt: number;
  exitedAt: number;
}

type Ending = { kind: 'exit'; exit: NodeosExit } | { kind: 'verdict'; reason: string; message: string } | { kind: 'abort' };

export async function runReplay(session: NodeosSession, item: WorkItem, input: ReplayInput, signal: AbortSignal, onProgress: (p: RunnerProgress) => void): Promise<ReplayOutcome> {
  const { clock, options } = session;
  const log = new NodeosLogReader();
  // When the lines came, for the timings: the watchdog only looks every few seconds.
  let startHashSeenAt: number | undefined;
  let endSeenAt: number | undefined;
  session.log.onLine((line) => {
    log.read(line);
    if (log.startHash !== undefined) startHashSeenAt ??= clock.monotonic();
    if (log.endReachedAt !== undefined) endSeenAt ??= clock.monotonic();
  });
  const source = input.snapshotPath ? ['--snapshot', input.snapshotPath] : ['--genesis-json', input.genesisPath!];
  const end = String(item.end);
  const args = [...source, '--terminate-at-block', end, '--truncate-at-block', end, '--integrity-hash-on-start', '--integrity-hash-on-stop'];
  const spawnedAt = clock.monotonic();
  const { process, baseUrl } = await startNodeos(session, args, false);

  const watch = new PhaseWatch({
    baseUrl, start: item.start, end: item.end, chainId: item.chainId, clock, log, onProgress,
    intervalMs: options.progressIntervalMs,
    stallTimeoutMs: options.stallTimeoutMs,
    loadTimeoutMs: options.loadTimeoutMs,
    stopHashTimeoutMs: options.stopHashTimeoutMs,
  });
  const watching = new AbortController();
  const endings: Promise<Ending>[] = [
    process.exited.then((exit) => ({ kind: 'exit', exit })),
    watch.watch(watching.signal).then(
      (verdict) => ({ kind: 'verdict', ...verdict }),
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
  if (ending.kind === 'verdict') {
    const exit = await process.stop(options.killGraceMs, ending.reason);
    throw failure(session, ending.reason, ending.message, exit);
  }
  const { exit } = ending;
  const exitedAt = clock.monotonic();
  watch.observe(exitedAt, undefined); // what the log said since the last look (its verdict no longer matters)
  if (exit.spawnError) throw failure(session, 'spawn-failed', `cannot start ${session.bin}`, exit);
  if (exit.exitCode !== 0 || exit.signal) {
    const replayStarted = watch.replayingAt !== undefined;
    const verdict = exitVerdict(exit, session.log.lastLines(), input.snapshotPath !== undefined, replayStarted);
    const at = replayStarted ? ` after block ${log.headBlock ?? watch.lastInfo?.head_block_num ?? item.start}` : '';
    throw failure(session, verdict.reason, verdict.reason === 'crashed' ? `${verdict.message}${at}` : verdict.message, exit);
  }
  return {
    log,
    reachedEnd: log.endReachedAt === item.end,
    lastInfo: watch.lastInfo,
    exit,
    spawnedAt,
    upAt: Math.min(startHashSeenAt ?? exitedAt, watch.replayingAt ?? exitedAt),
    endAt: Math.min(endSeenAt ?? exitedAt, watch.hashingAt ?? exitedAt),
    exitedAt,
  };
}
