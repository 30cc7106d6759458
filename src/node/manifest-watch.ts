import { runKeys } from '../layout/keys.js';
import { CorruptObjectError } from '../layout/schema.js';
import { manifestDifferences } from '../manifest/compare-manifests.js';
import type { Manifest } from '../manifest/manifest.js';
import { decodeManifest } from '../manifest/read-manifest.js';
import { NotFoundError } from '../store/errors.js';
import { isNotModified, type Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';

export interface ManifestWatchContext {
  store: Pick<Store, 'get'>;
  clock: Pick<Clock, 'monotonic'>;
  run: string;
  /** The manifest this node works from (read at join). */
  manifest: Manifest;
  /** At most one look per this long (the node looks at its rescans). */
  everyMs: number;
  /** The ETag `manifest` was read with, when known (join): the first look is then a conditional GET too. */
  etag?: string;
}

/**
 * Notices a run's manifest being replaced under a working node (issue 19).
 * Runs are immutable (`replay-manifest publish` refuses to change one), so
 * a manifest that changed was written around the tool, and every item,
 * expected hash and lease the node works with may mean something else now:
 * the node stops work on the run rather than mix two definitions.
 *
 * Cost: one conditional GET (If-None-Match, a 304 with no body) per look,
 * at most one per `everyMs`. Without the ETag `manifest` was read with, the
 * first look reads the body and compares it with the manifest the node was
 * started with; with it, a replacement between `join` reading it and the
 * node starting shows as a new ETag and is compared the same way. A version with a
 * new ETag that defines the same run (manifestDifferences: provenance
 * aside, same content) is accepted.
 */
export class ManifestWatch {
  private etag: string | undefined;
  private lastLook = -Infinity;

  constructor(private readonly ctx: ManifestWatchContext) {
    this.etag = ctx.etag;
  }

  /** Looks if due. @returns why the node must stop, or undefined while the manifest is the one it works from. */
  async check(): Promise<string | undefined> {
    const now = this.ctx.clock.monotonic();
    if (now - this.lastLook < this.ctx.everyMs) return undefined;
    this.lastLook = now;
    const key = runKeys(this.ctx.run).manifest;
    let got;
    try {
      got = await this.ctx.store.get(key, this.etag === undefined ? {} : { ifNoneMatch: this.etag });
    } catch (error) {
      if (error instanceof NotFoundError) return `the manifest ${key} was deleted while this node worked on the run`;
      throw error;
    }
    if (isNotModified(got)) return undefined;
    let current: Manifest;
    try {
      current = decodeManifest(key, got.body, this.ctx.run);
    } catch (error) {
      if (error instanceof CorruptObjectError) return `the manifest ${key} was replaced by an unusable object (${error.message})`;
      throw error;
    }
    const changed = manifestDifferences(this.ctx.manifest, current);
    if (changed.length > 0) return `the manifest ${key} was replaced while this node worked on the run (changed: ${changed.join(', ')})`;
    this.etag = got.etag;
    return undefined;
  }
}
