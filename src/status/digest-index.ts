/**
 * Results digests (src/node/digest-record.ts) as a reader uses them: a way
 * to learn a listed result's summary without a GET per result. A digest is
 * an index, never the truth, so an entry stands in for a result only when
 *
 *   - the result object is listed (a digest never makes an item done);
 *   - the result was last modified no later than the digest that names it
 *     (a node writes the digest after the result; a result rewritten since,
 *     say deleted by an operator and replayed, is newer and is read);
 *   - no two digests disagree about it (then the result itself decides).
 *
 * The verdict is recomputed against the manifest's expected hash, never
 * taken from the digest. Anything else is read as before, so a node killed
 * before its next digest, a corrupt digest or none at all only cost GETs.
 */
import { CorruptObjectError } from '../layout/schema.js';
import { decodeDigest } from '../records/digest-record.js';
import { summariseResult, type Entry, type ResultSummary, type Sighting } from './run-state.js';

/** One digest, reduced to what the index needs: item id -> summary, for the manifest's items only. */
export type DigestSummaries = ReadonlyArray<readonly [item: string, summary: ResultSummary]>;

export interface DigestContext {
  run: string;
  /** The node a digest key names (`digests/<node>/<ulid>.json`). */
  node: string;
  knownItem(item: string): boolean;
  expectedEndHash(item: string): string | undefined;
}

/** @throws CorruptObjectError */
export function decodeDigestSummaries(key: string, body: Uint8Array, ctx: DigestContext): DigestSummaries {
  const record = decodeDigest(key, body);
  if (record.run !== ctx.run) throw new CorruptObjectError(key, `names run ${JSON.stringify(record.run)}, not ${ctx.run}`);
  if (record.node !== ctx.node) throw new CorruptObjectError(key, `names node ${JSON.stringify(record.node)}, not ${ctx.node}`);
  return record.results.filter((e) => ctx.knownItem(e.item)).map((e) => [e.item, summariseResult(e, ctx.expectedEndHash(e.item))] as const);
}

interface Indexed {
  summary: ResultSummary;
  /** The digest's last-modified (store clock). */
  digestModified: number;
}

/** Item id -> what the digests say of its result; built per use from the digests read so far. */
export class DigestIndex {
  private readonly byItem = new Map<string, Indexed | 'disputed'>();

  constructor(digests: Iterable<Entry<DigestSummaries>>) {
    for (const digest of digests) {
      for (const [item, summary] of digest.value ?? []) {
        const known = this.byItem.get(item);
        if (known === undefined) this.byItem.set(item, { summary, digestModified: digest.lastModified });
        else if (known !== 'disputed' && !sameSummary(known.summary, summary)) this.byItem.set(item, 'disputed');
        else if (known !== 'disputed') known.digestModified = Math.max(known.digestModified, digest.lastModified);
      }
    }
  }

  get size(): number {
    return this.byItem.size;
  }

  /** The summary for a listed result, or undefined when its body must be read. */
  summaryFor(item: string, result: Sighting): ResultSummary | undefined {
    const known = this.byItem.get(item);
    if (known === undefined || known === 'disputed') return undefined;
    return result.lastModified <= known.digestModified ? known.summary : undefined;
  }
}

function sameSummary(a: ResultSummary, b: ResultSummary): boolean {
  return a.node === b.node && a.epoch === b.epoch && a.endHash === b.endHash && a.startHash === b.startHash && a.headBlockId === b.headBlockId;
}
