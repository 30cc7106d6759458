/**
 * In-process replay nodes on the manual clock and one memory store, for
 * the hostile-bucket tests (issue 19): plant bad objects, run nodes, read
 * what they logged and what the bucket holds, and what `status` computes.
 */
import { pino } from 'pino';
import { runKeys } from '../../src/layout/keys.js';
import { decodeLease, type LeaseRecord } from '../../src/records/lease-record.js';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { manifestItems } from '../../src/manifest/items.js';
import type { Manifest } from '../../src/manifest/manifest.js';
import { publishManifest } from '../../src/manifest/publish.js';
import { decodeResult, type ResultRecord } from '../../src/records/result-record.js';
import { ReplayNode, type NodeExit } from '../../src/node/replay-node.js';
import type { NodeSettings } from '../../src/node/settings.js';
import type { Runner } from '../../src/runner/runner.js';
import { SimRunner } from '../../src/runner/sim.js';
import type { SimFaultSpec } from '../../src/runner/sim-faults.js';
import { computeRunStatus } from '../../src/status/compute-status.js';
import type { RunStatus } from '../../src/status/run-status.js';
import { RunReader } from '../../src/status/run-reader.js';
import { getIfExists } from '../../src/store/get-if-exists.js';
import { MemoryStore } from '../../src/store/memory.js';
import { listAll, overwrite } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { seededIds } from '../../src/util/ids.js';

export const TTL = 10_000;
export const ULID = '01JH5Z3V9Q4M8X2C7B6N1R0T5W';

export interface LogLine {
  level: number;
  msg: string;
  node?: string;
  key?: string;
  [field: string]: unknown;
}

export interface WorldNode {
  id: string;
  node: ReplayNode;
  exit(): NodeExit | undefined;
}

export interface WorldOptions {
  run?: string;
  items?: number;
  maxAttempts?: number;
}

/** Log levels as pino numbers. */
export const WARN = 40;
export const ERROR = 50;

export class World {
  readonly clock = new ManualClock();
  readonly store = new MemoryStore({ clock: this.clock });
  readonly lines: LogLine[] = [];
  readonly run: string;
  readonly keys: ReturnType<typeof runKeys>;
  readonly manifest: Manifest;
  readonly items: string[];
  private seed = 1;

  constructor(options: WorldOptions = {}) {
    this.run = options.run ?? 'hostile';
    this.keys = runKeys(this.run);
    const n = options.items ?? 4;
    this.manifest = buildManifest({
      run: this.run, createdAt: '2026-01-01T00:00:00Z',
      intervals: Array.from({ length: n }, (_, i) => ({ start: i * 100, end: (i + 1) * 100 })),
      defaults: { leaseTtlMs: TTL, ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }) },
    });
    this.items = manifestItems(this.manifest).map((i) => i.id);
  }

  async publish(): Promise<this> {
    await publishManifest(this.store, this.manifest);
    return this;
  }

  /** A node with the sim runner (100 blocks per second: an item takes 1 s) unless given a runner. */
  join(id: string, options: { settings?: Partial<NodeSettings>; runner?: Runner; faults?: SimFaultSpec; manifest?: Manifest } = {}): WorldNode {
    const clock = this.clock;
    const logger = pino({ level: 'debug' }, { write: (line: string) => void this.lines.push(JSON.parse(line) as LogLine) });
    const runner = options.runner ?? new SimRunner({ blocksPerSecond: 100, stepMs: 100, ...(options.faults ? { faults: options.faults } : {}) }, { clock, nodeId: id });
    const node = new ReplayNode(
      { store: this.store, clock, ids: seededIds(this.seed++, () => Math.floor(clock.now())), logger, runner, host: 'test', pid: 1, version: 'test' },
      { run: this.run, node: id, manifest: options.manifest ?? this.manifest, settings: { exitWhenDone: true, ...options.settings } },
    );
    let exit: NodeExit | undefined;
    void node.exited.then((e) => (exit = e));
    void node.start();
    return { id, node, exit: () => exit };
  }

  /** Moves time in 100 ms steps, letting the nodes' promises run between them. */
  async advance(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      await this.clock.advance(100);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Advances until `done()` or `limitMs` passed; returns the time it took. */
  async until(done: () => boolean | Promise<boolean>, limitMs: number): Promise<number> {
    let t = 0;
    while (!(await done()) && t < limitMs) {
      await this.advance(500);
      t += 500;
    }
    return t;
  }

  /** Stops a node gracefully (its stop waits on the manual clock, so time is moved meanwhile). */
  async stop(node: WorldNode): Promise<void> {
    void node.node.stop();
    await this.until(() => node.exit() !== undefined, 30_000);
  }

  async put(key: string, body: string): Promise<void> {
    await this.store.put(key, body, overwrite);
  }

  async keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const info of listAll(this.store, prefix)) keys.push(info.key);
    return keys;
  }

  /** Item id -> its result, for the results that decode as this run's. */
  async results(): Promise<Map<string, ResultRecord>> {
    const out = new Map<string, ResultRecord>();
    for (const item of this.items) {
      const got = await getIfExists(this.store, this.keys.result(item));
      if (!got) continue;
      try {
        out.set(item, decodeResult(this.keys.result(item), got.body, { run: this.run, item }));
      } catch {
        // corrupt: not a result
      }
    }
    return out;
  }

  async lease(item: string): Promise<LeaseRecord | undefined> {
    const got = await getIfExists(this.store, this.keys.lease(item));
    return got && decodeLease(this.keys.lease(item), got.body);
  }

  /** What `replay-node status` computes now (a one-shot reader). */
  async status(): Promise<RunStatus> {
    const reader = new RunReader({ store: this.store, clock: this.clock, run: this.run });
    const state = await reader.refresh();
    return computeRunStatus(state, { now: { monotonic: this.clock.monotonic(), wall: this.clock.now() } });
  }

  /** Lines at `level` or above whose message or key mentions `text`. */
  said(text: string, level = WARN): LogLine[] {
    return this.lines.filter((l) => l.level >= level && (l.msg.includes(text) || l.key === text));
  }
}

/** A result body for `item` of `run`, as a node would write it, with `fields` replaced. */
export function resultBody(run: string, item: string, fields: Record<string, unknown> = {}): string {
  const [start, end] = item.split('-').map(Number) as [number, number];
  return JSON.stringify({
    schema: 'replay/result/v1', run, item, start, end, endHash: 'ab'.repeat(32), headBlock: end, headBlockId: 'cd'.repeat(32),
    node: 'elsewhere', epoch: 1, nonce: ULID, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z',
    runner: 'sim/1', verdict: 'unverified', timings: {}, ...fields,
  });
}

/** A lease body for `item` of `run`, with `fields` replaced. */
export function leaseBody(run: string, item: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schema: 'replay/lease/v1', run, item, holder: 'ghost', nonce: ULID, epoch: 1, state: 'held', ttlMs: TTL, attempts: 1, failedBy: [],
    acquiredAt: '2026-01-01T00:00:00.000Z', renewedAt: '2026-01-01T00:00:00.000Z', ...fields,
  });
}
