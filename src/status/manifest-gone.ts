/**
 * A run's manifest is immutable: once a reader has read it, it can only
 * disappear if the store lost its objects (a directory unmounted or
 * removed, a bucket emptied, a URL now naming another store). Listings of
 * such a store come back empty, which would otherwise read as "every item
 * pending, no nodes": the reader refuses that view and keeps the last one
 * (issue 19).
 */
export class ManifestGoneError extends Error {
  override readonly name = 'ManifestGone';
  constructor(readonly key: string) {
    super(`${key} is gone from the store, though it was read before: the store is unmounted, emptied or not the one the run was published to; showing what was last read`);
  }
}
