/**
 * The bucket layout (design §2), a public contract: operators read it with
 * `aws s3 ls`. Every key any part of the product reads or writes is built
 * here. Keys are relative to the store root (the URL's prefix or directory).
 *
 *   runs/<run>/manifest.json
 *   runs/<run>/leases/<item>.json
 *   runs/<run>/results/<item>.json
 *   runs/<run>/conflicts/<item>/<node>.<ulid>.json
 *   runs/<run>/failures/<item>/<ulid>.json
 *   runs/<run>/nodes/<node>.json
 *   runs/<run>/control/<target>.json
 *   runs/<run>/digests/<node>/<ulid>.json
 *   runs/<run>/observers/<observer>.json
 *   artifacts/...  snapshots/...  blocks/...
 *   snapshots/<name>.json            beside snapshots/<name>.bin.zst (or .bin): its sha256 record
 *   snapshots/<name>.bin.zst.sha256  a sha256sum line for the snapshot beside it
 */

/** Block numbers are zero-padded so that listing order is block order. */
export const BLOCK_DIGITS = 10;
export const MAX_BLOCK = 10 ** BLOCK_DIGITS - 1;

/** Run ids, node ids: safe in a key and in a URL path, no `/`. */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && !name.includes('..');
}

export function padBlock(block: number): string {
  if (!Number.isSafeInteger(block) || block < 0 || block > MAX_BLOCK) {
    throw new RangeError(`block number out of range: ${block}`);
  }
  return String(block).padStart(BLOCK_DIGITS, '0');
}

export interface ItemRef {
  start: number;
  end: number;
  /** 1-based replica number; only present when the run has more than one replica per interval. */
  replica?: number;
}

/** `<start>-<end>` or `<start>-<end>.r<k>`. */
export function itemId(ref: ItemRef): string {
  const base = `${padBlock(ref.start)}-${padBlock(ref.end)}`;
  return ref.replica === undefined ? base : `${base}.r${ref.replica}`;
}

const ITEM_PATTERN = /^(\d{10})-(\d{10})(?:\.r([1-9]\d{0,3}))?$/;

/** Parses an item id; returns undefined for anything that is not one (foreign keys are skipped, not fatal). */
export function parseItemId(id: string): ItemRef | undefined {
  const match = ITEM_PATTERN.exec(id);
  if (!match) return undefined;
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end <= start) return undefined;
  return match[3] === undefined ? { start, end } : { start, end, replica: Number(match[3]) };
}

export function runsPrefix(): string {
  return 'runs/';
}

/** All keys of one run. */
export function runKeys(run: string) {
  if (!isValidName(run)) throw new RangeError(`invalid run id: ${JSON.stringify(run)}`);
  const root = `runs/${run}/`;
  return {
    root,
    manifest: `${root}manifest.json`,
    leasesPrefix: `${root}leases/`,
    lease: (item: string) => `${root}leases/${item}.json`,
    resultsPrefix: `${root}results/`,
    result: (item: string) => `${root}results/${item}.json`,
    conflictsPrefix: `${root}conflicts/`,
    conflict: (item: string, node: string, id: string) => `${root}conflicts/${item}/${node}.${id}.json`,
    failuresPrefix: `${root}failures/`,
    failuresOf: (item: string) => `${root}failures/${item}/`,
    failure: (item: string, id: string) => `${root}failures/${item}/${id}.json`,
    nodesPrefix: `${root}nodes/`,
    node: (node: string) => `${root}nodes/${node}.json`,
    controlPrefix: `${root}control/`,
    control: (target: string) => `${root}control/${target}.json`,
    digestsPrefix: `${root}digests/`,
    digest: (node: string, id: string) => `${root}digests/${node}/${id}.json`,
    observersPrefix: `${root}observers/`,
    observer: (observer: string) => `${root}observers/${observer}.json`,
  };
}

export type RunKeys = ReturnType<typeof runKeys>;

/**
 * The item id in a key under one of the run's per-item prefixes, e.g.
 * `runs/r/leases/0000000000-0000041758.json` -> `0000000000-0000041758`.
 * Undefined for foreign keys.
 */
export function itemIdFromKey(key: string, prefix: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const id = rest.split('/')[0]!.replace(/\.json$/, '');
  return parseItemId(id) ? id : undefined;
}

export const SNAPSHOTS_PREFIX = 'snapshots/';
export const ARTIFACTS_PREFIX = 'artifacts/';
export const BLOCKS_PREFIX = 'blocks/';

/**
 * The immutable record beside a snapshot (`snapshots/<name>.json` for
 * `snapshots/<name>.bin.zst` or `.bin`), telling its sha256; undefined for
 * a key with neither suffix. See src/manifest/snapshot-record.ts.
 */
export function snapshotRecordKey(snapshotKey: string): string | undefined {
  const match = /^(.+)\.bin(?:\.zst)?$/.exec(snapshotKey);
  return match ? `${match[1]}.json` : undefined;
}

/** The `sha256sum`-style file beside a snapshot: `snapshots/<name>.bin.zst.sha256`. */
export function snapshotSidecarKey(snapshotKey: string): string {
  return `${snapshotKey}.sha256`;
}
