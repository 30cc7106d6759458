import type { NodeosExit } from './process.js';

/**
 * Why a nodeos that exited on its own, before the end of its replay, failed:
 * from its exit code (programs/nodeos/main.cpp `return_codes`) and its last
 * log lines. Only nodeos's own refusal of the snapshot file counts as a bad
 * snapshot: the runner discards the cached copy on `corrupt-snapshot`, so a
 * false match would throw away a good multi-GB download.
 */
export interface ExitVerdict {
  reason: 'corrupt-snapshot' | 'nodeos-refused' | 'dirty-database' | 'crashed';
  message: string;
}

/** main.cpp: -2 (any exception) and -1 (initialize failed, e.g. a missing `--config`) as exit statuses. */
export const EXIT_OTHER_FAIL = 254;
export const EXIT_INITIALIZE_FAIL = 255;
export const EXIT_BAD_ALLOC = 1;
export const EXIT_DATABASE_DIRTY = 2;

/**
 * nodeos's messages for a snapshot it cannot read, each where spring
 * prints it. All end in exit 254 before the HTTP port opens.
 */
const SNAPSHOT_REFUSALS: RegExp[] = [
  /Binary snapshot has unexpected magic number!/, // libraries/chain/snapshot.cpp 265
  /Binary snapshot is an unsupported version\. +Expected : \d+, Got: \d+/, // snapshot.cpp 272
  /Unsupported version of chain snapshot: \d+\. Supported version must be between \d+ and \d+ inclusive\./, // chain_snapshot.hpp 45-48
  /Snapshot indicates controller head at block number 0, but that is not allowed/, // controller.cpp 1973
  /\w+ datastream of length \d+ over by -?\d+/, // libfc datastream: a truncated snapshot file
  /\bsnapshot_(validation_)?exception\b/, // the exception names of every other snapshot check
];

/** chain_plugin.cpp 825: the data directory was not empty; the snapshot may well be fine. */
const NOT_EMPTY = /Snapshot can only be used to initialize an empty database/;

export function exitVerdict(exit: NodeosExit, lines: string[], usedSnapshot: boolean, replayStarted: boolean): ExitVerdict {
  const code = exit.exitCode;
  if (code === EXIT_DATABASE_DIRTY) {
    return { reason: 'dirty-database', message: 'nodeos found its database dirty (an unclean shutdown) and wants a replay' };
  }
  if ((code === EXIT_OTHER_FAIL || code === EXIT_INITIALIZE_FAIL) && !replayStarted) {
    if (usedSnapshot && lines.some((line) => SNAPSHOT_REFUSALS.some((pattern) => pattern.test(line)))) {
      return { reason: 'corrupt-snapshot', message: `nodeos refused the snapshot: ${firstError(lines)}` };
    }
    if (lines.some((line) => NOT_EMPTY.test(line))) {
      return { reason: 'nodeos-refused', message: 'nodeos found state in its data directory before loading the snapshot (the runner empties it first: report this)' };
    }
    return { reason: 'nodeos-refused', message: `nodeos refused to start: ${firstError(lines)}` };
  }
  if (code === EXIT_BAD_ALLOC) return { reason: 'crashed', message: 'nodeos ran out of chain state memory (bad alloc); raise chain-state-db-size-mb' };
  return { reason: 'crashed', message: 'nodeos failed' };
}

const BOOST_WHAT = 'std::exception::what: ';
const LOG_LINE = /^(<\d>)?(all|debug|info|warn|error) +\d{4}-/;

/**
 * The first `error` line nodeos logged, message only, as the one-line
 * cause. An fc exception is logged over several lines (`to_detail_string`:
 * code and name, then the message, then its context indented), so the
 * unindented lines that follow are part of it.
 */
function firstError(lines: string[]): string {
  const at = lines.findIndex((line) => /^(<3>)?error /.test(line));
  if (at < 0) return 'no error line in its log (see the log tail in the failure record)';
  const head = lines[at]!;
  const parts = [head.slice(head.indexOf('] ') + 2).trim()];
  for (const next of lines.slice(at + 1, at + 3)) {
    if (LOG_LINE.test(next) || /^\s/.test(next) || next.startsWith('[replay-node]') || !next.trim()) break;
    parts.push(next.trim());
  }
  const message = parts.filter(Boolean).join(': ');
  // A boost exception (main.cpp logs diagnostic_information) leads with the throw site; the cause is its what().
  const what = message.indexOf(BOOST_WHAT);
  return (what >= 0 ? message.slice(what + BOOST_WHAT.length) : message).slice(0, 300);
}
