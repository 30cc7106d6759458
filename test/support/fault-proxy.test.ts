import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlreadyExistsError, NotFoundError, UnavailableError, WriteOutcomeUnknownError } from '../../src/store/errors.js';
import { createS3Store, type S3Store } from '../../src/store/s3.js';
import { parseS3Url } from '../../src/store/s3-url.js';
import { create, isNotModified, overwrite, update } from '../../src/store/store.js';
import { systemClock } from '../../src/time/system-clock.js';
import {
  afterUpstream,
  clientIdOf,
  createFaultProxy,
  delayBy,
  hold,
  holdAnswer,
  planDecision,
  proxiedUrl,
  type FaultPlan,
  type FaultProxy,
} from './fault-proxy.js';
import { Cluster, publishRun } from '../node/support/cluster-world.js';
import { checkHistory, formatHistoryReport, LogHistory } from './history.js';
import { describeS3, freshS3Store, type S3TestStore } from './s3.js';
import { until } from './until.js';

describe('fault plan decisions', () => {
  const plan: FaultPlan = { seed: 42, rates: { 'error-500': 0.1, 'error-503': 0.1, 'drop-reset': 0.1, 'drop-silent': 0.05, delay: 0.15 }, delayMs: { min: 10, max: 20 } };

  it('depend only on (seed, client, k)', () => {
    const a = Array.from({ length: 200 }, (_, k) => planDecision(plan, 'node-a', k + 1));
    expect(Array.from({ length: 200 }, (_, k) => planDecision({ ...plan }, 'node-a', k + 1))).toEqual(a);
    expect(Array.from({ length: 200 }, (_, k) => planDecision({ ...plan, seed: 43 }, 'node-a', k + 1))).not.toEqual(a);
    expect(Array.from({ length: 200 }, (_, k) => planDecision(plan, 'node-b', k + 1))).not.toEqual(a);
    const delays = a.filter((d) => d.fault === 'delay').map((d) => d.delayMs);
    expect(delays.length).toBeGreaterThan(0);
    expect(delays.every((ms) => ms >= 10 && ms <= 20)).toBe(true);
  });

  it('follow the configured rates', () => {
    const n = 20_000;
    const counts: Record<string, number> = {};
    for (let k = 1; k <= n; k++) {
      const { fault } = planDecision(plan, 'c', k);
      counts[fault] = (counts[fault] ?? 0) + 1;
    }
    expect(counts['none']! / n).toBeCloseTo(0.5, 1);
    expect(counts['delay']! / n).toBeCloseTo(0.15, 1);
    expect(counts['drop-silent']! / n).toBeCloseTo(0.05, 1);
  });

  it('reject rates that sum past 1', () => {
    expect(() => createFaultProxy({ upstream: 'http://127.0.0.1:1', plan: { seed: 1, rates: { 'error-500': 0.7, 'drop-reset': 0.4 } } })).toThrow(RangeError);
  });

  it('the client id is the user agent app/<id>; proxiedUrl swaps the endpoint', () => {
    expect(clientIdOf({ 'user-agent': 'aws-sdk-js/3.1 ua/2.1 os/linux lang/js md/nodejs#20 api/s3#3.1 m/E app/node-b' })).toBe('node-b');
    expect(clientIdOf({ 'x-amz-user-agent': 'aws-sdk-js/3.1 app/x.1' })).toBe('x.1');
    expect(clientIdOf({ 'user-agent': 'aws-sdk-js/3.1' })).toBeUndefined();
    expect(proxiedUrl('s3://b/p?endpoint=http://127.0.0.1:7480&region=us-east-1', 'http://127.0.0.1:9')).toBe('s3://b/p?endpoint=http://127.0.0.1:9&region=us-east-1');
  });
});

describeS3('fault proxy in front of a real S3 server', () => {
  let s3: S3TestStore;
  let proxy: FaultProxy;
  const stores: S3Store[] = [];
  beforeAll(async () => {
    s3 = await freshS3Store('fault-proxy');
  });
  afterAll(() => s3?.cleanup());
  beforeEach(async (ctx) => {
    if (!s3.target.endpoint) ctx.skip(); // AWS itself: nothing local to sit in front of
    proxy = createFaultProxy({ upstream: s3.target.endpoint! });
    await proxy.start();
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await proxy?.stop();
  });

  /** An S3Store whose requests go through `endpoint` (default: the proxy's main port). */
  const storeVia = (endpoint = proxy.endpoint, options: { timeoutMs?: number; maxAttempts?: number } = {}): S3Store => {
    const url = new URL(proxiedUrl(s3.url, endpoint).replace(/^s3:/, 'http:'));
    url.searchParams.set('etagQuoting', 'unquoted'); // no quoting probe: every request below is the test's own
    if (options.timeoutMs) url.searchParams.set('timeoutMs', String(options.timeoutMs));
    const { accessKeyId, secretAccessKey } = s3.target;
    const store = createS3Store(parseS3Url(url.toString().replace(/^http:/, 's3:')), {
      clock: systemClock,
      credentials: { accessKeyId, secretAccessKey },
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    });
    stores.push(store);
    return store;
  };
  let n = 0;
  const freshKey = (what: string): string => `runs/r/${what}/${++n}.json`;

  it('passes signed requests through unchanged and records them', async () => {
    const store = storeVia();
    const key = freshKey('leases');
    const put = await store.put(key, '{"v":1}', create);
    const got = await store.get(key);
    expect(!isNotModified(got) && Buffer.from(got.body).toString()).toBe('{"v":1}');
    await store.put(key, '{"v":2}', update(put.etag));
    await expect(store.put(key, '{"v":3}', create)).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await store.list({ prefix: 'runs/r/leases/' })).items.map((i) => i.key)).toContain(key);
    await store.delete(key);
    await proxy.settled();

    const seen = proxy.requests();
    expect(seen.map((r) => [r.method, r.status, r.fault])).toEqual([
      ['PUT', 200, 'none'], ['GET', 200, 'none'], ['PUT', 200, 'none'], ['PUT', 412, 'none'], ['GET', 200, 'none'], ['DELETE', 204, 'none'],
    ]);
    expect(seen[0]).toMatchObject({ seq: 1, clientSeq: 1, bucket: s3.bucket, key, ifNoneMatch: '*', delivered: true });
    expect(seen[2]!.ifMatch).toBe(put.etag);
    expect(seen[4]).toMatchObject({ key: '', prefix: 'runs/r/leases/' });
    for (const r of seen) expect(r.endMs!).toBeGreaterThanOrEqual(r.startMs);
    expect(proxy.acceptedWrites((k) => k === key)).toHaveLength(2);
  });

  it('names the client by AWS_SDK_UA_APP_ID, or by its dedicated port', async () => {
    const saved = process.env.AWS_SDK_UA_APP_ID;
    process.env.AWS_SDK_UA_APP_ID = 'node-env';
    try {
      await storeVia().head(freshKey('x')).catch(() => undefined);
    } finally {
      if (saved === undefined) delete process.env.AWS_SDK_UA_APP_ID;
      else process.env.AWS_SDK_UA_APP_ID = saved;
    }
    await storeVia(await proxy.clientEndpoint('node-port')).put(freshKey('x'), '{}', create);
    await proxy.settled();
    expect(new Set(proxy.requests().map((r) => r.client))).toEqual(new Set(['node-env', 'node-port']));
  });

  it('error-500 and error-503 are answered without forwarding: WriteOutcomeUnknown on a create, nothing landed', async () => {
    const store = storeVia();
    const direct = s3.store;
    for (const kind of ['error-500', 'error-503'] as const) {
      const key = freshKey('results');
      const rule = proxy.rule({ match: (r) => r.key === key, once: true, action: kind });
      await expect(store.put(key, '{}', create)).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
      expect((await rule.matched).status).toBeUndefined();
      await expect(direct.head(key)).rejects.toBeInstanceOf(NotFoundError);
    }
    expect(proxy.counts()).toMatchObject({ 'error-500': 1, 'error-503': 1 });
    // An overwrite is safe to retry: the same answer is Unavailable (one attempt here, so one 500).
    const key = freshKey('nodes');
    proxy.rule({ match: (r) => r.key === key, once: true, action: 'error-500' });
    await expect(storeVia(proxy.endpoint, { maxAttempts: 1 }).put(key, '{}', overwrite)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('a plan of 503s on reads: the SDK retries them, then Unavailable', async () => {
    const key = freshKey('x');
    await s3.store.put(key, '{}', overwrite);
    proxy.setPlan({ seed: 1, rates: { 'error-503': 1 }, when: (r) => r.method === 'GET' });
    await expect(storeVia().get(key)).rejects.toBeInstanceOf(UnavailableError);
    await proxy.settled();
    expect(proxy.requests().map((r) => [r.fault, r.by, r.status])).toEqual(Array(3).fill(['error-503', 'plan', undefined]));
  });

  it('drop-reset on a conditional PUT: WriteOutcomeUnknown, and the object did land', async () => {
    const key = freshKey('results');
    proxy.rule({ match: (r) => r.method === 'PUT' && r.key === key, action: 'drop-reset' });
    await expect(storeVia().put(key, '{"landed":true}', create)).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
    await proxy.settled();
    const [rec] = proxy.requests();
    expect(rec).toMatchObject({ fault: 'drop-reset', by: 'rule', status: 200, delivered: false });
    expect(proxy.acceptedWrites((k) => k === key)).toHaveLength(1);
    const got = await s3.store.get(key);
    expect(!isNotModified(got) && Buffer.from(got.body).toString()).toBe('{"landed":true}');
  });

  it('drop-reset on a read: the retrying client tries again and succeeds', async () => {
    const key = freshKey('x');
    await s3.store.put(key, 'x', overwrite);
    proxy.rule({ match: (r) => r.method === 'GET', once: true, action: 'drop-reset' });
    await expect(storeVia().get(key)).resolves.toMatchObject({ key });
    expect(proxy.requests().map((r) => r.fault)).toEqual(['drop-reset', 'none']);
  });

  it('drop-silent on a conditional PUT: WriteOutcomeUnknown once the client times out, and the object landed', async () => {
    const key = freshKey('leases');
    proxy.rule({ match: (r) => r.key === key, action: 'drop-silent' });
    await expect(storeVia(proxy.endpoint, { timeoutMs: 1000 }).put(key, '{}', create)).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
    await expect(s3.store.head(key)).resolves.toMatchObject({ key });
    const [rec] = proxy.requests();
    expect(rec).toMatchObject({ fault: 'drop-silent', status: 200, delivered: false });
    // A silenced read is a timeout: Unavailable once the attempts are used up.
    await expect(storeVia(proxy.endpoint, { timeoutMs: 500, maxAttempts: 1 }).get(key)).rejects.toBeInstanceOf(UnavailableError);
  });

  it('limitRequestTime (a node sets it from the lease TTL) bounds an unanswered request well below the 30 s default', async () => {
    const store = storeVia(); // the URL's default timeout: 30 s
    store.limitRequestTime({ conditionalWriteMs: 1_000, otherMs: 1_500 });
    const write = freshKey('leases');
    const read = freshKey('leases');
    await s3.store.put(read, '{}', create);
    proxy.rule({ match: (r) => r.key === write || r.key === read, action: 'drop-silent' });
    const started = performance.now();
    await expect(store.put(write, '{}', create)).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
    // The SDK retries a read 3 times, each silenced for 1.5 s.
    await expect(store.get(read)).rejects.toBeInstanceOf(UnavailableError);
    // 1 s + 3 × 1.5 s and the SDK's backoff: far below one 30 s default (generous for a loaded machine).
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(proxy.requests().filter((r) => r.fault === 'drop-silent')).toHaveLength(4);
  });

  it('delay forwards late; hold forwards only when released; holdAnswer lets the write land first', async () => {
    const store = storeVia();
    const delayed = freshKey('x');
    proxy.rule({ match: (r) => r.key === delayed, once: true, action: delayBy(300) });
    await store.put(delayed, '{}', create);
    expect(proxy.requests()[0]!.endMs! - proxy.requests()[0]!.startMs).toBeGreaterThanOrEqual(295);

    const held = freshKey('x');
    let release!: () => void;
    const rule = proxy.rule({ match: (r) => r.key === held, once: true, action: hold(new Promise<void>((r) => (release = r))) });
    const put = store.put(held, '{}', create);
    await rule.matched;
    await expect(s3.store.head(held)).rejects.toBeInstanceOf(NotFoundError);
    release();
    await put;
    await expect(s3.store.head(held)).resolves.toMatchObject({ key: held });

    const late = freshKey('x');
    let answer!: () => void;
    proxy.rule({ match: (r) => r.key === late, once: true, action: holdAnswer(new Promise<void>((r) => (answer = r))) });
    let settled = false;
    const put2 = store.put(late, '{}', create).finally(() => (settled = true));
    await until(() => s3.store.head(late).then(() => true, () => false), (landed) => landed, 'the held-answer write to land');
    expect(settled).toBe(false);
    answer();
    await put2;
    expect(proxy.counts()).toMatchObject({ delay: 1, hold: 1, 'hold-answer': 1 });
  });

  it('afterUpstream sees the upstream status before the client does, and chooses what it gets', async () => {
    const key = freshKey('results');
    const statuses: number[] = [];
    proxy.rule({
      match: (r) => r.key === key,
      action: afterUpstream((rec) => {
        statuses.push(rec.status!);
        return statuses.length === 1 ? 'reset' : 'answer';
      }),
    });
    const store = storeVia();
    await expect(store.put(key, '{}', create)).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
    await expect(store.put(key, '{}', create)).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(statuses).toEqual([200, 412]);
    expect(proxy.requests().map((r) => [r.fault, r.delivered])).toEqual([['drop-reset', false], ['none', true]]);
    expect(proxy.acceptedWrites((k) => k === key)).toHaveLength(1);
  });

  it('the same seed gives every client the same faults whatever the interleaving', async () => {
    const key = freshKey('x');
    await s3.store.put(key, '{}', overwrite);
    const plan: FaultPlan = { seed: 'issue-12', rates: { 'error-500': 0.25, 'error-503': 0.25, delay: 0.2 }, delayMs: { min: 0, max: 15 } };
    const faultsPerClient = async (seed: FaultPlan['seed'], interleaved: boolean): Promise<Record<string, string[]>> => {
      const p = createFaultProxy({ upstream: s3.target.endpoint!, plan: { ...plan, seed } });
      try {
        const clients = await Promise.all(['a', 'b'].map(async (c) => storeVia(await p.clientEndpoint(c), { maxAttempts: 1 })));
        const run = async (s: S3Store): Promise<void> => {
          for (let i = 0; i < 16; i++) await s.get(key).catch(() => undefined);
        };
        if (interleaved) await Promise.all(clients.map(run));
        else for (const c of clients.reverse()) await run(c);
        await p.settled();
        const out: Record<string, string[]> = {};
        for (const r of p.requests()) (out[r.client] ??= [])[r.clientSeq - 1] = r.fault;
        return out;
      } finally {
        await p.stop();
      }
    };
    const first = await faultsPerClient(plan.seed, true);
    expect(await faultsPerClient(plan.seed, false)).toEqual(first);
    expect(first['a']).toEqual(Array.from({ length: 16 }, (_, k) => planDecision(plan, 'a', k + 1).fault));
    expect(first['a']).not.toEqual(first['b']);
    expect(await faultsPerClient('another seed', true)).not.toEqual(first);
  });

  it('an outage refuses connections and resets open ones, then the proxy answers again on the same port', async () => {
    const store = storeVia();
    const key = freshKey('leases');
    await store.put(key, '{}', create);
    const port = proxy.port;

    const heldKey = freshKey('leases');
    const rule = proxy.rule({ match: (r) => r.key === heldKey, once: true, action: hold(new Promise<void>(() => undefined)) });
    const heldPut = store.put(heldKey, '{}', create);
    await rule.matched;
    await proxy.startOutage();
    await expect(heldPut).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
    const refused = await store.get(key).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnavailableError);
    expect(String((refused as Error).message)).toMatch(/ECONNREFUSED/);
    await proxy.endOutage();

    expect(proxy.port).toBe(port);
    await expect(store.get(key)).resolves.toMatchObject({ key });
    await proxy.outage(50);
    await expect(store.head(key)).resolves.toMatchObject({ key });
    const windows = proxy.outages();
    expect(windows).toHaveLength(2);
    for (const w of windows) expect(w.endMs!).toBeGreaterThan(w.startMs);
  });

  it('replay nodes through a faulty proxy: every request named by its node, and a clean history', async () => {
    const run = 'proxied';
    await publishRun(s3.store, { run, items: 6, ttlMs: 3000 });
    proxy.setPlan({ seed: 12, rates: { delay: 0.1, 'error-503': 0.05, 'drop-reset': 0.05 }, delayMs: { min: 10, max: 100 } });
    const url = proxiedUrl(s3.url, proxy.endpoint);
    const cluster = new Cluster({ url, env: s3.env, store: s3.store, close: async () => undefined }, run);
    const history = new LogHistory();
    try {
      const sim = ['--runner', 'sim', '--no-gossip', '--sim-step-ms', '50', '--sim-speed', '1000', '--exit-when-done'];
      for (const node of ['p1', 'p2']) history.attach(cluster.join(node, sim));
      expect((await Promise.all(cluster.nodes.map((n) => n.exited))).map((e) => e.code)).toEqual([0, 0]);
    } finally {
      await cluster.killAll();
    }
    await proxy.settled();
    expect(new Set(proxy.requests().map((r) => r.client))).toEqual(new Set(['p1', 'p2']));
    expect(proxy.counts()['drop-reset']).toBeGreaterThan(0); // seed 12: the 9th request of p1 and the 7th of p2
    const report = await checkHistory({ store: s3.store, run, history, requests: proxy.requests(), keyPrefix: s3.prefix });
    expect(report, formatHistoryReport(report)).toMatchObject({ items: 6, results: 6, overwrites: [], overlaps: [], ok: true });
  });

  it('start and stop are idempotent; stop ends silenced and held exchanges at once', async () => {
    await proxy.start();
    const store = storeVia(proxy.endpoint, { timeoutMs: 60_000 });
    const silent = freshKey('x');
    const held = freshKey('x');
    proxy.rule({ match: (r) => r.key === silent, action: 'drop-silent' });
    const heldRule = proxy.rule({ match: (r) => r.key === held, action: hold(new Promise<void>(() => undefined)) });
    const outcomes = [store.put(silent, '{}', create).catch((e: unknown) => e), store.put(held, '{}', create).catch((e: unknown) => e)];
    await heldRule.matched;
    await until(() => proxy.requests().find((r) => r.key === silent)?.status, (status) => status !== undefined, 'the silenced write to be forwarded');
    await Promise.all([proxy.stop(), proxy.stop()]);
    const [a, b] = await Promise.all(outcomes);
    expect(a).toBeInstanceOf(WriteOutcomeUnknownError);
    expect(b).toBeInstanceOf(WriteOutcomeUnknownError);
    await expect(s3.store.head(held)).rejects.toBeInstanceOf(NotFoundError);
    await expect(proxy.start()).resolves.toBeUndefined();
  });
});
