import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../time/clock.js';
import type { Logger } from '../../util/logger.js';
import { redactSecrets } from '../../util/redact.js';
import { RunnerFailure } from '../runner.js';
import { freePort, renderConfig, type IniEntry } from './config.js';
import type { NodeosLog } from './log-file.js';
import type { ResolvedNodeosOptions } from './options.js';
import { describeExit, NodeosProcess, type NodeosExit } from './process.js';

/** Everything one item's nodeos starts share: binary, directories, log, settings. */
export interface NodeosSession {
  bin: string;
  itemId: string;
  /** nodeos --data-dir (state, blocks); emptied before each item. */
  dataDir: string;
  /** nodeos --config-dir (config.ini). */
  configDir: string;
  log: NodeosLog;
  clock: Clock;
  logger: Logger;
  options: ResolvedNodeosOptions;
  overrides: IniEntry[];
  parentDeathSignal: boolean;
  /** Processes started for this item (so close() and aborts can stop them). */
  processes: Set<NodeosProcess>;
  /** Told of each nodeos as it starts (the runner records its pid file: nodeos-pid-file.ts). */
  onStart?: (process: NodeosProcess) => void;
}

export interface StartedNodeos {
  process: NodeosProcess;
  baseUrl: string;
}

/** Writes a fresh config.ini with free ports and starts nodeos with it. */
export async function startNodeos(session: NodeosSession, args: string[], readOnly: boolean): Promise<StartedNodeos> {
  const httpPort = await freePort();
  const p2pPort = await freePort();
  const { options } = session;
  await writeFile(join(session.configDir, 'config.ini'), renderConfig({
    httpPort,
    p2pPort,
    p2pPeers: options.p2pPeers,
    blocksLogStride: options.blocksLogStride,
    readOnly,
    overrides: session.overrides,
  }));
  const process = new NodeosProcess({
    bin: session.bin,
    args: ['--data-dir', session.dataDir, '--config-dir', session.configDir, ...args, ...options.extraArgs],
    env: options.env,
    log: session.log,
    clock: session.clock,
    parentDeathSignal: session.parentDeathSignal,
  });
  session.processes.add(process);
  session.onStart?.(process);
  void process.exited.then(() => session.processes.delete(process));
  session.logger.info({ item: session.itemId, pid: process.pid, readOnly, httpPort }, 'nodeos started');
  return { process, baseUrl: `http://127.0.0.1:${httpPort}` };
}

/**
 * A failed attempt with the exit status and the last log lines, as failure
 * records want them. Redacted here, where they leave the runner: the message
 * often quotes a nodeos line, and the tail is nodeos's output, which may
 * hold an environment dump (the log's lines are redacted already; the
 * message is not a log line).
 */
export function failure(session: NodeosSession, reason: string, message: string, exit?: NodeosExit): RunnerFailure {
  const said = redactSecrets(message);
  session.log.note(`attempt failed (${reason}): ${said}`);
  return new RunnerFailure(reason, exit ? `${said} (nodeos ${describeExit(exit)})` : said, {
    exitCode: exit?.exitCode ?? null,
    signal: exit?.signal ?? null,
    logTail: session.log.lastLines(),
  });
}

/** Resolves when the signal aborts (at once if it already has). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
