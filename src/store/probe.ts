import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import { NotSupportedError, StoreError } from './errors.js';
import {
  checkCasCurrentEtag,
  checkCasMissingKey,
  checkCasStaleEtag,
  checkConcurrentCreates,
  checkCreateIfAbsent,
  type CasState,
  type CheckOutcome,
  type ProbeCheckName,
  VERSIONING_HINT,
} from './probe-checks.js';
import { ProbeRequests, ProbeUnavailableError, probeRetryPolicy } from './probe-retry.js';
import { overwrite, type Store } from './store.js';
import { messageOf } from '../util/message-of.js';

export type { ProbeCheckName } from './probe-checks.js';
export { ProbeUnavailableError } from './probe-retry.js';

/**
 * The capability probe: before any lease is trusted, prove on the store
 * itself that conditional writes work (several popular S3 fakes answer 200
 * to everything and would give two lease holders every time). It works
 * under `_probe/<ulid>/` below the store root and removes what it wrote.
 *
 * `replay-node doctor` prints the report; every long-running command calls
 * `assertStoreSafe` once at start and refuses an unsafe store.
 *
 * Faults are not evidence: transient errors are retried and ambiguous
 * writes resolved by reading back (probe-retry.ts), and each check's detail
 * says how many were retried. A store that stays unavailable makes the
 * probe throw ProbeUnavailableError ("retry later"), never a verdict.
 */
export interface ProbeDeps {
  clock: Clock;
  ids: IdSource;
  /** Concurrent creates of one key; exactly one must win. Default 8. */
  contenders?: number;
  /** Round trips timed for the latency line. Default 5. */
  latencyRounds?: number;
}

export interface ProbeCheck extends CheckOutcome {
  name: ProbeCheckName;
  /** Wall time of the check on the injected monotonic clock (backoffs included). */
  ms: number;
  /** Transient errors (Unavailable, WriteOutcomeUnknown) retried during the check. */
  transientErrors: number;
}

export interface ProbeReport {
  store: string;
  /** True when every check passed: the store can hold leases. */
  ok: boolean;
  checks: ProbeCheck[];
  /** The first failed check, when not ok. */
  failed?: ProbeCheck;
  /** The If-Match form the endpoint accepts (S3 only). */
  etagQuoting?: 'quoted' | 'unquoted';
  /** Round-trip latency of a small write + read, ms. */
  latencyMs: { p50: number; max: number };
  /** Store clock minus this host's wall clock, ms (from the responses' Date). */
  clockOffsetMs: number;
  /** Transient errors retried over the whole probe. */
  transientErrors: number;
  /** The directory the probe used (removed again). */
  dir: string;
}

export const PROBE_DIR = '_probe/';
/**
 * The store-clock limit. Leases never rely on the wall clock, but S3 refuses
 * every request signed more than 15 minutes off the store's clock
 * (RequestTimeTooSkewed); refusing past 13 leaves a margin for drift, while a
 * host 10 minutes off (600.x s on RGW, whose Date has one-second resolution)
 * still works.
 */
export const MAX_CLOCK_OFFSET_MS = 13 * 60_000;

/** The store cannot be trusted with leases; the message names the failed check. */
export class UnsafeStoreError extends StoreError {
  override readonly name = 'UnsafeStore';
  readonly retryable = false;
  constructor(readonly report: ProbeReport) {
    const failed = report.failed!;
    super(
      `store ${report.store} cannot be trusted with leases: check ${failed.name} failed (${failed.detail}); ` +
        'use a store that honours conditional writes (AWS S3, MinIO, Ceph RGW, R2, or a local directory); run "replay-node doctor --store URL" for the full report',
    );
  }
}

/**
 * Runs every check and reports. Throws ProbeUnavailableError when the store
 * answered only transient errors on some request (after the retries), and
 * the store's own non-retryable errors (StoreConfigError: credentials,
 * bucket) as they are.
 */
export async function probeStore(store: Store, deps: ProbeDeps): Promise<ProbeReport> {
  const dir = `${PROBE_DIR}${deps.ids.ulid()}/`;
  const checks: ProbeCheck[] = [];
  const requests = (policy = probeRetryPolicy): ProbeRequests => new ProbeRequests(store, { clock: deps.clock, ids: deps.ids, policy });
  const run = async (name: ProbeCheckName, check: (io: ProbeRequests) => Promise<CheckOutcome>): Promise<void> => {
    const io = requests();
    const started = deps.clock.monotonic();
    const outcome = await check(io);
    checks.push(withRetries({ name, ...outcome, ms: deps.clock.monotonic() - started, transientErrors: io.transientErrors }));
  };
  let etagQuoting: ProbeReport['etagQuoting'];
  let latencyMs = { p50: 0, max: 0 };
  let clockOffsetMs = 0;
  let failure: { error: unknown } | undefined;
  try {
    await run('create-if-absent', (io) => checkCreateIfAbsent(io, dir));
    await run('concurrent-creates', (io) => checkConcurrentCreates(io, dir, deps.contenders ?? 8));
    // Before the CAS checks, so that the detection's requests are timed on their own line.
    await run('etag-quoting', async (io) => {
      try {
        // Each try detects on a fresh scratch object under the probe directory, which cleanup removes.
        etagQuoting = await io.call('the ETag quoting detection', () => quotingOf(store, `${dir}etag-quoting/`));
      } catch (error) {
        if (error instanceof NotSupportedError) return { ok: false, detail: `${error.message}; ${VERSIONING_HINT}` };
        throw error;
      }
      return { ok: true, detail: etagQuoting ? `If-Match takes the ${etagQuoting} ETag` : 'not an HTTP store: no quoting to detect' };
    });
    const cas: CasState = { key: `${dir}cas` };
    await run('cas-current-etag', (io) => checkCasCurrentEtag(io, cas));
    await run('cas-stale-etag', (io) => checkCasStaleEtag(io, cas));
    await run('cas-missing-key', (io) => checkCasMissingKey(io, dir, cas));
    await run('store-clock', async (io) => {
      clockOffsetMs = await io.call(`HEAD ${dir}create`, async () => {
        const before = deps.clock.now();
        const { storeDate } = await store.head(`${dir}create`);
        return storeDate.getTime() - (before + deps.clock.now()) / 2;
      });
      return clockCheck(clockOffsetMs);
    });
    await run('latency', async (io) => {
      latencyMs = await measureLatency(io, `${dir}latency`, deps);
      return { ok: true, detail: `small write + read round trip p50 ${latencyMs.p50.toFixed(1)} ms, max ${latencyMs.max.toFixed(1)} ms` };
    });
  } catch (error) {
    failure = { error };
  }
  // A store already given up on as unavailable gets one try at cleanup, not another round of retries.
  const cleanupIo = requests(failure ? { ...probeRetryPolicy, attempts: 1 } : probeRetryPolicy);
  try {
    checks.push(withRetries({ name: 'cleanup', ...(await removeDir(cleanupIo, dir)), ms: 0, transientErrors: cleanupIo.transientErrors }));
  } catch (error) {
    if (failure) throw failure.error;
    // Transient errors that outlast the retries mean the store is unavailable, not that it is unsafe.
    if (error instanceof ProbeUnavailableError) throw error;
    checks.push({ name: 'cleanup', ok: false, detail: `could not remove ${dir}: ${messageOf(error)}`, ms: 0, transientErrors: cleanupIo.transientErrors });
  }
  if (failure) throw failure.error;
  const failed = checks.find((c) => !c.ok);
  const transientErrors = checks.reduce((sum, c) => sum + c.transientErrors, 0);
  return {
    store: store.description,
    ok: !failed,
    checks,
    ...(failed ? { failed } : {}),
    ...(etagQuoting ? { etagQuoting } : {}),
    latencyMs,
    clockOffsetMs,
    transientErrors,
    dir,
  };
}

/** Runs the probe; throws UnsafeStoreError (one line, naming the failed check) unless every check passed. */
export async function assertStoreSafe(store: Store, deps: ProbeDeps): Promise<ProbeReport> {
  const report = await probeStore(store, deps);
  if (!report.ok) throw new UnsafeStoreError(report);
  return report;
}

/** "(2 transient errors retried)" in the detail, so a flaky store shows as flaky even when it passes. */
function withRetries(check: ProbeCheck): ProbeCheck {
  const n = check.transientErrors;
  return n === 0 ? check : { ...check, detail: `${check.detail} (${n} transient ${n === 1 ? 'error' : 'errors'} retried)` };
}

function clockCheck(offsetMs: number): CheckOutcome {
  const offset = `store clock ${formatOffset(offsetMs)} this host's`;
  if (Math.abs(offsetMs) > MAX_CLOCK_OFFSET_MS) {
    return {
      ok: false,
      detail: `${offset}, past the ${MAX_CLOCK_OFFSET_MS / 60_000}-minute limit: S3 refuses every request signed 15 minutes off (RequestTimeTooSkewed), so this host is about to lose the store: fix its clock (NTP)`,
    };
  }
  const far = Math.abs(offsetMs) >= 60_000 ? `; S3 refuses requests 15 minutes off and this probe past ${MAX_CLOCK_OFFSET_MS / 60_000}: set this host's clock with NTP` : '';
  return { ok: true, detail: `${offset} (leases never depend on it${far})` };
}

/** Only HTTP stores have a quoting question; they expose their detection. */
async function quotingOf(store: Store, scratchPrefix: string): Promise<'quoted' | 'unquoted' | undefined> {
  const detect = (store as { etagQuoting?: (options?: { scratchPrefix?: string }) => Promise<'quoted' | 'unquoted'> }).etagQuoting;
  return typeof detect === 'function' ? detect.call(store, { scratchPrefix }) : undefined;
}

async function measureLatency(io: ProbeRequests, key: string, deps: ProbeDeps): Promise<{ p50: number; max: number }> {
  const samples: number[] = [];
  // Only the try that succeeded is timed: backoffs after a transient error are not latency.
  const timed = async (what: string, request: () => Promise<unknown>): Promise<number> =>
    io.call(what, async () => {
      const started = deps.clock.monotonic();
      await request();
      return deps.clock.monotonic() - started;
    });
  for (let i = 0; i < (deps.latencyRounds ?? 5); i++) {
    const write = await timed(`PUT ${key}`, () => io.store.put(key, `round ${i}`, overwrite));
    const read = await timed(`HEAD ${key}`, () => io.store.head(key));
    samples.push(write + read);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)] ?? 0, max: samples.at(-1) ?? 0 };
}

async function removeDir(io: ProbeRequests, dir: string): Promise<CheckOutcome> {
  const keys = await listKeys(io, dir);
  await Promise.all(keys.map((key) => io.call(`DELETE ${key}`, () => io.store.delete(key))));
  const left = (await io.call(`LIST ${dir}`, () => io.store.list({ prefix: dir, limit: 10 }))).items.length;
  return left === 0
    ? { ok: true, detail: `removed the ${keys.length} probe objects under ${dir}` }
    : { ok: false, detail: `${left} probe objects are still under ${dir}` };
}

async function listKeys(io: ProbeRequests, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let startAfter: string | undefined;
  do {
    const page = await io.call(`LIST ${prefix}`, () => io.store.list({ prefix, ...(startAfter !== undefined ? { startAfter } : {}) }));
    keys.push(...page.items.map((item) => item.key));
    startAfter = page.nextStartAfter;
  } while (startAfter !== undefined);
  return keys;
}

function formatOffset(ms: number): string {
  const s = Math.abs(ms) / 1000;
  const size = s < 1 ? '<1 s' : s < 120 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`;
  return `${size} ${ms >= 0 ? 'ahead of' : 'behind'}`;
}
