import type { Clock } from './clock.js';

/** A deadline on the injected clock, as an AbortSignal that also follows a parent signal. */
export class TimeoutError extends Error {
  override readonly name = 'Timeout';
}

export interface Deadline {
  signal: AbortSignal;
  /** Stops the timer; call when the guarded work is done. */
  clear(): void;
}

export function deadline(clock: Clock, ms: number, what: string, parent?: AbortSignal): Deadline {
  const controller = new AbortController();
  const timer = new AbortController();
  const onParent = (): void => controller.abort(parent!.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onParent, { once: true });
  clock.sleep(ms, timer.signal).then(
    () => controller.abort(new TimeoutError(`${what} timed out after ${ms} ms`)),
    () => {},
  );
  return {
    signal: controller.signal,
    clear: () => {
      timer.abort();
      parent?.removeEventListener('abort', onParent);
    },
  };
}
