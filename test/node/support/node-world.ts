import { pino } from 'pino';
import { itemIdFromKey, runKeys } from '../../../src/layout/keys.js';
import { buildManifest } from '../../../src/manifest/build-manifest.js';
import { manifestItems } from '../../../src/manifest/items.js';
import type { Manifest } from '../../../src/manifest/manifest.js';
import { publishManifest } from '../../../src/manifest/publish.js';
import { ReplayNode, type NodeExit } from '../../../src/node/replay-node.js';
import { resolveNodeSettings, type NodeSettings } from '../../../src/node/settings.js';
import { decodeLease, type LeaseRecord } from '../../../src/records/lease-record.js';
import { decodeResult, type ResultRecord } from '../../../src/records/result-record.js';
import { SimRunner } from '../../../src/runner/sim.js';
import { UnavailableError } from '../../../src/store/errors.js';
import { getIfExists } from '../../../src/store/get-if-exists.js';
import { MemoryStore } from '../../../src/store/memory.js';
import { listAll, type Store } from '../../../src/store/store.js';
import { ManualClock } from '../../../src/time/manual-clock.js';
import { seededIds } from '../../../src/util/ids.js';

export const RUN = 'world';

export type RequestKindCount = 'get' | 'put' | 'list' | 'head' | 'delete';
export type KindCounts = Record<RequestKindCount, number>;

const zero = (): KindCounts => ({ get: 0, put: 0, list: 0, head: 0, delete: 0 });

/**
 * One node's view of the shared store. While `partitioned`, every request
 * fails as unreachable (UnavailableError) before reaching the store: the
 * host is frozen or cut off, as seen from the store. Requests are counted
 * by kind (getStream as get, putStream as put), failed ones included.
 */
export class PartitionStore implements Store {
  partitioned = false;
  readonly counts: KindCounts = zero();
  constructor(
    private readonly inner: Store,
    private readonly name: string,
    /** Told of every put that landed (key, body), after it landed. */
    private readonly onPut: (node: string, key: string, body: Uint8Array | string) => void = () => undefined,
  ) {}
  get description(): string {
    return this.inner.description;
  }
  private check(kind: RequestKindCount): void {
    this.counts[kind]++;
    if (this.partitioned) throw new UnavailableError(`injected: ${this.name} is partitioned from the store`);
  }
  get: Store['get'] = async (key, options) => (this.check('get'), this.inner.get(key, options));
  getStream: Store['getStream'] = async (key, options) => (this.check('get'), this.inner.getStream(key, options));
  head: Store['head'] = async (key) => (this.check('head'), this.inner.head(key));
  put: Store['put'] = async (key, body, mode) => {
    this.check('put');
    const done = await this.inner.put(key, body, mode);
    this.onPut(this.name, key, body);
    return done;
  };
  putStream: Store['putStream'] = async (key, body, mode, options) => (this.check('put'), this.inner.putStream(key, body, mode, options));
  delete: Store['delete'] = async (key) => (this.check('delete'), this.inner.delete(key));
  list: Store['list'] = async (options) => (this.check('list'), this.inner.list(options));
  close: Store['close'] = () => this.inner.close();

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }
}

export interface LogLine {
  level: number;
  msg: string;
  node?: string;
  /** Manual-clock monotonic ms when it was logged (added by the world). */
  at: number;
  [k: string]: unknown;
}

export interface WorldNode {
  id: string;
  node: ReplayNode;
  store: PartitionStore;
  settings: NodeSettings;
  exit: NodeExit | undefined;
  started: boolean;
}

/** One lease write that landed in the store: when (clock ms), by which node, what. */
export interface LeaseWrite {
  t: number;
  by: string;
  item: string;
  record: LeaseRecord;
}

export interface NodeWorldOptions {
  items: number;
  ttlMs: number;
  /** Node count, or node ids. Ids default to n1, n2, ... */
  nodes: number | string[];
  /** Blocks per item (item i covers [i·blocks, (i+1)·blocks)). Default 100. */
  blocksPerItem?: number;
  /** Sim runner speed. Default 100: a 100-block item takes 1 s of clock time. */
  blocksPerSecond?: number;
  /** Setting overrides for every node, or per node (by index). */
  settings?: Partial<NodeSettings> | ((index: number, id: string) => Partial<NodeSettings>);
  /** Memory store latency (store clock = the shared clock). Default none. */
  latencyMs?: number;
}

/**
 * N real ReplayNodes in-process on one ManualClock, sharing one MemoryStore
 * through per-node PartitionStores, each with a SimRunner, gossip off.
 * Nothing runs until `start()`; time moves only through `advance`.
 */
export class NodeWorld {
  readonly keys = runKeys(RUN);

  private constructor(
    readonly clock: ManualClock,
    readonly backend: MemoryStore,
    readonly manifest: Manifest,
    readonly items: string[],
    readonly nodes: WorldNode[],
    /** Every log line of every node (pino JSON, debug and up); `node` names the writer. */
    readonly lines: LogLine[],
    /** Every lease write that landed, in order. */
    readonly leaseWrites: LeaseWrite[],
  ) {}

  /** The lease writes of one item, in order. */
  leaseHistory(item: string): LeaseWrite[] {
    return this.leaseWrites.filter((w) => w.item === item);
  }

  static async create(options: NodeWorldOptions): Promise<NodeWorld> {
    const { items, ttlMs } = options;
    const blocks = options.blocksPerItem ?? 100;
    const clock = new ManualClock();
    const backend = new MemoryStore({ clock, ...(options.latencyMs ? { latencyMs: options.latencyMs } : {}) });
    const manifest = buildManifest({
      run: RUN, createdAt: '2026-01-01T00:00:00Z',
      intervals: Array.from({ length: items }, (_, i) => ({ start: i * blocks, end: (i + 1) * blocks })),
      defaults: { leaseTtlMs: ttlMs },
    });
    await publishManifest(backend, manifest);
    const ids = typeof options.nodes === 'number' ? Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`) : options.nodes;
    const lines: LogLine[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push({ ...(JSON.parse(line) as LogLine), at: clock.monotonic() }) });
    const keys = runKeys(RUN);
    const leaseWrites: LeaseWrite[] = [];
    const onPut = (by: string, key: string, body: Uint8Array | string): void => {
      const item = itemIdFromKey(key, keys.leasesPrefix);
      if (item !== undefined) leaseWrites.push({ t: clock.monotonic(), by, item, record: decodeLease(key, body) });
    };
    const nodes = ids.map((id, index): WorldNode => {
      const store = new PartitionStore(backend, id, onPut);
      const overrides = typeof options.settings === 'function' ? options.settings(index, id) : (options.settings ?? {});
      const node = new ReplayNode(
        {
          store, clock, ids: seededIds(101 + index, () => clock.now()), logger,
          runner: new SimRunner({ blocksPerSecond: options.blocksPerSecond ?? 100, stepMs: 100 }, { clock, nodeId: id }),
          host: `host-${id}`, pid: 1000 + index, version: 'test',
        },
        { run: RUN, node: id, manifest, settings: overrides },
      );
      const entry: WorldNode = { id, node, store, settings: resolveNodeSettings(ttlMs, false, overrides), exit: undefined, started: false };
      void node.exited.then((exit) => (entry.exit = exit));
      return entry;
    });
    return new NodeWorld(clock, backend, manifest, manifestItems(manifest).map((i) => i.id), nodes, lines, leaseWrites);
  }

  get ttlMs(): number {
    return this.manifest.defaults.leaseTtlMs;
  }

  /** Milliseconds since the world was created, on the manual clock (its monotonic time starts at 0). */
  get now(): number {
    return this.clock.monotonic();
  }

  node(id: string): WorldNode {
    const found = this.nodes.find((n) => n.id === id);
    if (!found) throw new Error(`no node ${id}`);
    return found;
  }

  /** Starts the named nodes (default all); start-up runs as time advances (it is not awaited). */
  start(...ids: string[]): void {
    for (const n of ids.length > 0 ? ids.map((id) => this.node(id)) : this.nodes) {
      if (n.started) continue;
      n.started = true;
      void n.node.start();
    }
  }

  partition(id: string, on = true): void {
    this.node(id).store.partitioned = on;
  }

  /** Requests per kind summed over nodes (or one node's). */
  requests(id?: string): KindCounts & { total: number } {
    const sum = zero();
    for (const n of id ? [this.node(id)] : this.nodes) for (const k of Object.keys(sum) as RequestKindCount[]) sum[k] += n.store.counts[k];
    return { ...sum, total: Object.values(sum).reduce((a, b) => a + b, 0) };
  }

  /**
   * Moves the clock `ms` in steps of at most `stepMs`, letting promise
   * chains settle between steps. `each` runs after every step (sampling).
   */
  async advance(ms: number, stepMs = 100, each?: () => Promise<void> | void): Promise<void> {
    for (let left = ms; left > 0; left -= stepMs) {
      await this.clock.advance(Math.min(stepMs, left));
      await settle();
      if (each) await each();
    }
  }

  /** Advances until every item has a result, or throws after `maxMs` of clock time saying what is missing. */
  async untilDone(maxMs: number, stepMs = 100, each?: () => Promise<void> | void): Promise<number> {
    const from = this.clock.monotonic();
    for (;;) {
      const results = await this.resultKeys();
      if (results.length >= this.items.length) return this.clock.monotonic() - from;
      if (this.clock.monotonic() - from >= maxMs) {
        const leases = await this.leases();
        const missing = this.items.filter((item) => !results.includes(this.keys.result(item)));
        const state = missing.map((item) => {
          const l = leases.get(item);
          return `${item}: ${l ? `${l.state} by ${l.holder} epoch ${l.epoch}` : 'no lease'}`;
        });
        const nodes = this.nodes.map((n) => `${n.id}=${n.exit ? `exited(${n.exit.reason})` : n.node.nodeState}`);
        throw new Error(`untilDone: after ${maxMs} ms, ${missing.length} of ${this.items.length} items have no result [${state.join('; ')}]; nodes ${nodes.join(', ')}`);
      }
      await this.advance(stepMs, stepMs, each);
    }
  }

  async resultKeys(): Promise<string[]> {
    return collect(this.backend, this.keys.resultsPrefix);
  }

  async lease(item: string): Promise<LeaseRecord | undefined> {
    const key = this.keys.lease(item);
    const got = await getIfExists(this.backend, key);
    return got && decodeLease(key, got.body);
  }

  leases(): Promise<Map<string, LeaseRecord>> {
    return this.readEach((item) => this.lease(item));
  }

  async result(item: string): Promise<ResultRecord | undefined> {
    const key = this.keys.result(item);
    const got = await getIfExists(this.backend, key);
    return got && decodeResult(key, got.body, { run: RUN, item });
  }

  results(): Promise<Map<string, ResultRecord>> {
    return this.readEach((item) => this.result(item));
  }

  /** Every item's object that exists, read one by one (the world's items are few). */
  private async readEach<T>(read: (item: string) => Promise<T | undefined>): Promise<Map<string, T>> {
    const out = new Map<string, T>();
    for (const item of this.items) {
      const found = await read(item);
      if (found) out.set(item, found);
    }
    return out;
  }

  /** Stops one node gracefully, driving the clock until its stop() settles (bounded by its stopTimeoutMs, several times over). */
  async stop(id: string, stepMs = 100): Promise<void> {
    const n = this.node(id);
    await this.drive(n.node.stop('test stop'), 5 * n.settings.stopTimeoutMs, stepMs);
  }

  async stopAll(stepMs = 100): Promise<void> {
    const bound = 5 * Math.max(...this.nodes.map((n) => n.settings.stopTimeoutMs));
    await this.drive(Promise.all(this.nodes.map((n) => n.node.stop('test stop'))), bound, stepMs);
  }

  private async drive(promise: Promise<unknown>, maxMs: number, stepMs: number): Promise<void> {
    let settled = false;
    void promise.then(() => (settled = true), () => (settled = true));
    await settle();
    for (let t = 0; !settled && t < maxMs; t += stepMs) await this.advance(stepMs, stepMs);
    if (!settled) throw new Error(`stop did not settle within ${maxMs} ms of clock time`);
    await promise;
  }
}

/** Lets pending promise chains run: a few macrotask turns. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}

async function collect(store: Store, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const info of listAll(store, prefix)) keys.push(info.key);
  return keys;
}
