import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import { NotSupportedError, StoreError } from './errors.js';
import {
  checkCompareAndSwap,
  checkConcurrentCreates,
  checkCreateIfAbsent,
  type CheckOutcome,
  type ProbeCheckName,
} from './probe-checks.js';
import { listAll, overwrite, type Store } from './store.js';

export type { ProbeCheckName } from './probe-checks.js';

/**
 * The capability probe: before any lease is trusted, prove on the store
 * itself that conditional writes work (several popular S3 fakes answer 200
 * to everything and would give two lease holders every time). It works
 * under `_probe/<ulid>/` below the store root and removes what it wrote.
 *
 * `replay-node doctor` prints the report; every long-running command calls
 * `assertStoreSafe` once at start and refuses an unsafe store.
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
  /** Wall time of the check on the injected monotonic clock. */
  ms: number;
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
  /** The directory the probe used (removed again). */
  dir: string;
}

export const PROBE_DIR = '_probe/';
/** S3 refuses requests from clients more than 15 minutes off; leases never rely on the wall clock, but signing does. */
const MAX_CLOCK_OFFSET_MS = 10 * 60_000;

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

export async function probeStore(store: Store, deps: ProbeDeps): Promise<ProbeReport> {
  const dir = `${PROBE_DIR}${deps.ids.ulid()}/`;
  const checks: ProbeCheck[] = [];
  const run = async (name: ProbeCheckName, check: () => Promise<CheckOutcome>): Promise<void> => {
    const started = deps.clock.monotonic();
    const outcome = await check();
    checks.push({ name, ...outcome, ms: deps.clock.monotonic() - started });
  };
  let etagQuoting: ProbeReport['etagQuoting'];
  let latencyMs = { p50: 0, max: 0 };
  let clockOffsetMs = 0;
  try {
    await run('create-if-absent', () => checkCreateIfAbsent(store, dir));
    await run('concurrent-creates', () => checkConcurrentCreates(store, dir, deps.contenders ?? 8));
    // Before the CAS checks, so that the detection's requests are timed on their own line.
    await run('etag-quoting', async () => {
      try {
        etagQuoting = await quotingOf(store);
      } catch (error) {
        if (error instanceof NotSupportedError) return { ok: false, detail: error.message };
        throw error;
      }
      return { ok: true, detail: etagQuoting ? `If-Match takes the ${etagQuoting} ETag` : 'not an HTTP store: no quoting to detect' };
    });
    const started = deps.clock.monotonic();
    const cas = await checkCompareAndSwap(store, dir);
    const casMs = deps.clock.monotonic() - started;
    for (const name of ['cas-current-etag', 'cas-stale-etag', 'cas-missing-key'] as const) checks.push({ name, ...cas[name], ms: casMs });
    await run('store-clock', async () => {
      const before = deps.clock.now();
      const { storeDate } = await store.head(`${dir}create`);
      clockOffsetMs = storeDate.getTime() - (before + deps.clock.now()) / 2;
      const ok = Math.abs(clockOffsetMs) < MAX_CLOCK_OFFSET_MS;
      return { ok, detail: `store clock ${formatOffset(clockOffsetMs)} this host's${ok ? ' (leases never depend on it)' : '; S3 signing fails past 15 minutes: fix this host\'s clock (NTP)'}` };
    });
    await run('latency', async () => {
      latencyMs = await measureLatency(store, `${dir}latency`, deps);
      return { ok: true, detail: `small write + read round trip p50 ${latencyMs.p50.toFixed(1)} ms, max ${latencyMs.max.toFixed(1)} ms` };
    });
  } finally {
    const cleanup = await removeDir(store, dir).catch((error: unknown) => ({ ok: false, detail: `could not remove ${dir}: ${(error as Error).message}` }));
    checks.push({ name: 'cleanup', ...cleanup, ms: 0 });
  }
  const failed = checks.find((c) => !c.ok);
  return { store: store.description, ok: !failed, checks, ...(failed ? { failed } : {}), ...(etagQuoting ? { etagQuoting } : {}), latencyMs, clockOffsetMs, dir };
}

/** Runs the probe; throws UnsafeStoreError (one line, naming the failed check) unless every check passed. */
export async function assertStoreSafe(store: Store, deps: ProbeDeps): Promise<ProbeReport> {
  const report = await probeStore(store, deps);
  if (!report.ok) throw new UnsafeStoreError(report);
  return report;
}

/** Only HTTP stores have a quoting question; they expose their detection. */
async function quotingOf(store: Store): Promise<'quoted' | 'unquoted' | undefined> {
  const detect = (store as { etagQuoting?: () => Promise<'quoted' | 'unquoted'> }).etagQuoting;
  return typeof detect === 'function' ? detect.call(store) : undefined;
}

async function measureLatency(store: Store, key: string, deps: ProbeDeps): Promise<{ p50: number; max: number }> {
  const samples: number[] = [];
  for (let i = 0; i < (deps.latencyRounds ?? 5); i++) {
    const started = deps.clock.monotonic();
    await store.put(key, `round ${i}`, overwrite);
    await store.head(key);
    samples.push(deps.clock.monotonic() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length / 2)] ?? 0, max: samples.at(-1) ?? 0 };
}

async function removeDir(store: Store, dir: string): Promise<CheckOutcome> {
  const keys: string[] = [];
  for await (const item of listAll(store, dir)) keys.push(item.key);
  await Promise.all(keys.map((key) => store.delete(key)));
  const left = (await store.list({ prefix: dir, limit: 10 })).items.length;
  return left === 0
    ? { ok: true, detail: `removed the ${keys.length} probe objects under ${dir}` }
    : { ok: false, detail: `${left} probe objects are still under ${dir}` };
}

function formatOffset(ms: number): string {
  const s = Math.abs(ms) / 1000;
  return `${s < 1 ? '<1 s' : `${s.toFixed(0)} s`} ${ms >= 0 ? 'ahead of' : 'behind'}`;
}
