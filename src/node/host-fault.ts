import { RunnerConfigError } from '../runner/runner-config-error.js';
import { RunnerFailure } from '../runner/runner.js';
import { messageOf } from '../util/message-of.js';

/**
 * Runner errors that say this host is broken, not the item (issue 19, "one
 * bad host fails the whole run": a node with an unusable data directory
 * failed every item three times itself, and every lease ended `failed`).
 * Any other node would replay the item fine, so such an attempt is not
 * counted against the item: the node releases the lease as `released`
 * (not in `failedBy`), writes a failure record marked `hostFault`, says so
 * in one line, stops claiming and exits once its other items are done.
 *
 * The list, from src/runner:
 *   - RunnerConfigError at run time: the runner's own set-up is unusable
 *     (data directory lock, nodeos install, setpriv, config override);
 *   - RunnerFailure `insufficient-disk` (the data directory's volume is full)
 *     and `spawn-failed` (the nodeos binary cannot be started);
 *   - a file-system error the runner did not classify, by its errno code:
 *     the data directory (or its volume) cannot be written or read
 *     (EACCES, EPERM, EROFS, ENOSPC, EDQUOT, EIO), or the process is out of
 *     file handles (EMFILE, ENFILE).
 * Everything else (a crash, a stall, a corrupt or missing snapshot, a wrong
 * head, a store read that failed) may be the item's fault and counts
 * (docs/protocol.md §6).
 */
export interface HostFault {
  /** Short machine-friendly reason, as in failure records. */
  reason: string;
  message: string;
}

const HOST_FAILURE_REASONS: ReadonlySet<string> = new Set(['insufficient-disk', 'spawn-failed']);
const HOST_ERRNO: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE']);

export function hostFaultOf(error: unknown): HostFault | undefined {
  if (error instanceof RunnerConfigError) return { reason: 'runner-config', message: error.message };
  if (error instanceof RunnerFailure) return HOST_FAILURE_REASONS.has(error.reason) ? { reason: error.reason, message: error.message } : undefined;
  const code = errnoOf(error);
  if (code !== undefined && HOST_ERRNO.has(code)) return { reason: 'data-dir-unusable', message: messageOf(error) };
  return undefined;
}

/** The errno code of a Node.js system error, or of its cause. */
function errnoOf(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
