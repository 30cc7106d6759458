/**
 * Whether the store answers the observer, for one run's reads or for the
 * run discovery (issue 19). An observer whose store does not answer must
 * say so: without this it showed "No runs in this store yet", or an empty
 * run "loading" forever, as if that were the state of the run. The first
 * failure of a streak is kept with its time (`since`, this host's wall
 * clock, for people); the page and /api show it with the one-line error;
 * the next success clears it. Retries come sooner than the regular
 * re-sync, 1 s doubling up to the re-sync period, so a store that is back
 * shows up within seconds and one that stays down is not hammered.
 */
import type { Clock } from '../time/clock.js';
import type { Logger } from '../util/logger.js';
import { redactSecrets } from '../util/redact.js';

/** What /api and the pages show while the store does not answer. */
export interface StoreErrorInfo {
  /** The last error, one line (`Unavailable: cannot reach the S3 endpoint ...`). */
  message: string;
  /** When the streak of failures began (ISO, this host's clock). */
  since: string;
  /** Failed attempts in a row. */
  failures: number;
  /** When the last one failed (ISO, this host's clock). */
  lastFailureAt: string;
}

const MAX_MESSAGE = 400;

export interface StoreTroubleDeps {
  clock: Pick<Clock, 'now' | 'sleep'>;
  logger: Logger;
  /** Fields for every log line (the run). */
  context: Record<string, unknown>;
  /** Called to try again, `baseDelayMs` after the first failure, doubling up to `maxDelayMs`. */
  retry: () => void;
  maxDelayMs: number;
  baseDelayMs?: number;
  /** Aborted on stop: no retry after it. */
  signal: AbortSignal;
}

export class StoreTrouble {
  private state: { sinceWall: number; lastWall: number; failures: number; message: string } | undefined;
  private retryScheduled = false;

  constructor(private readonly deps: StoreTroubleDeps) {}

  /** Records a failure of `what` (logged once per outage, then at debug level) and schedules a retry. */
  failed(error: unknown, what: string): void {
    const d = this.deps;
    const now = d.clock.now();
    const failures = (this.state?.failures ?? 0) + 1;
    if (failures === 1) d.logger.warn({ ...d.context, err: error }, `observer ${what} failed; the page shows the error, retrying with backoff`);
    else d.logger.debug({ ...d.context, error: oneLine(error), failures }, `observer ${what} still failing`);
    this.state = { sinceWall: this.state?.sinceWall ?? now, lastWall: now, failures, message: oneLine(error) };
    if (this.retryScheduled || d.signal.aborted) return;
    this.retryScheduled = true;
    const delayMs = Math.min(d.maxDelayMs, (d.baseDelayMs ?? 1_000) * 2 ** Math.min(failures - 1, 20));
    d.clock.sleep(delayMs, d.signal).then(
      () => {
        this.retryScheduled = false;
        d.retry();
      },
      () => {},
    );
  }

  /** Records a success: the end of an outage, if there was one. */
  succeeded(): void {
    if (this.state) this.deps.logger.info({ ...this.deps.context, failures: this.state.failures }, 'observer reads the store again');
    this.state = undefined;
  }

  get failing(): boolean {
    return this.state !== undefined;
  }

  info(): StoreErrorInfo | null {
    const s = this.state;
    if (!s) return null;
    return { message: s.message, since: new Date(s.sinceWall).toISOString(), failures: s.failures, lastFailureAt: new Date(s.lastWall).toISOString() };
  }
}

/** `Name: message`, first line only, bounded, secrets redacted: it reaches a web page. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const first = text.split(/\r?\n/, 1)[0]!.trim();
  const bounded = first.length > MAX_MESSAGE ? `${first.slice(0, MAX_MESSAGE)}…` : first;
  return redactSecrets(bounded);
}
