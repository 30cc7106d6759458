import { UnavailableError, WriteOutcomeUnknownError } from '../../../src/store/errors.js';
import type { PutMode, PutResult, Store } from '../../../src/store/store.js';

/**
 * Wraps a real store and injects the failures the lease protocol must
 * survive. Everything not faulted is delegated unchanged, so conditional
 * semantics are the real backend's.
 *
 *   unknown-after:  the put lands, then the caller sees WriteOutcomeUnknown (a timeout after the write)
 *   unknown-before: the put does not land, the caller sees WriteOutcomeUnknown (a timeout before it)
 *   retried-412:    the put lands, then the caller sees the store's answer to a retry of it (412/AlreadyExists)
 *   unavailable:    the put does not land, the caller sees Unavailable
 *   hang:           the put never answers
 *   gated:          the put waits until `openGate()`, then goes through (a slow request)
 */
export type PutFault = 'unknown-after' | 'unknown-before' | 'retried-412' | 'unavailable' | 'hang' | 'gated';

export class FaultyStore implements Store {
  /** Faults for the next puts, consumed one per put. */
  readonly putFaults: PutFault[] = [];
  /** A fault applied to every put while set (after `putFaults` is empty). */
  failAllPuts: PutFault | undefined;
  /** GETs fail with Unavailable while set. */
  failGets = false;
  puts = 0;
  gets = 0;
  private gate = newGate();

  /** Lets every gated put through. */
  openGate(): void {
    this.gate.open();
    this.gate = newGate();
  }

  constructor(private readonly inner: Store) {}

  get description(): string {
    return `faulty(${this.inner.description})`;
  }

  async put(key: string, body: Uint8Array | string, mode: PutMode): Promise<PutResult> {
    this.puts++;
    const fault = this.putFaults.shift() ?? this.failAllPuts;
    switch (fault) {
      case undefined:
        return this.inner.put(key, body, mode);
      case 'unknown-before':
        throw new WriteOutcomeUnknownError(key, 'injected timeout before the write');
      case 'unavailable':
        throw new UnavailableError('injected: store unavailable');
      case 'hang':
        return new Promise<never>(() => {});
      case 'gated':
        await this.gate.passed;
        return this.inner.put(key, body, mode);
      case 'unknown-after':
        await this.inner.put(key, body, mode);
        throw new WriteOutcomeUnknownError(key, 'injected timeout after the write landed');
      case 'retried-412':
        await this.inner.put(key, body, mode);
        // What the client's retry of the same request gets: the condition now fails.
        return this.inner.put(key, body, mode);
    }
  }

  get: Store['get'] = async (key, options) => {
    this.gets++;
    if (this.failGets) throw new UnavailableError('injected: store unavailable');
    return this.inner.get(key, options);
  };
  getStream: Store['getStream'] = (key, options) => this.inner.getStream(key, options);
  head: Store['head'] = (key) => this.inner.head(key);
  putStream: Store['putStream'] = (key, body, mode, options) => this.inner.putStream(key, body, mode, options);
  delete: Store['delete'] = (key) => this.inner.delete(key);
  list: Store['list'] = (options) => this.inner.list(options);
  close: Store['close'] = () => this.inner.close();
}

function newGate(): { passed: Promise<void>; open: () => void } {
  let open = (): void => {};
  const passed = new Promise<void>((resolve) => (open = resolve));
  return { passed, open };
}
