import type { ExpiryJudge } from '../lease/expiry.js';
import type { AcquireContext } from '../lease/take-over.js';
import type { ManifestItem } from '../manifest/items.js';
import type { Manifest } from '../manifest/manifest.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import type { NodeSettings } from './settings.js';
import type { StoreClock } from './store-clock.js';

/** What the parts of a replay node share: one run, one node id, injected time and randomness. */
export interface NodeContext {
  store: Store;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  run: string;
  node: string;
  manifest: Manifest;
  items: readonly ManifestItem[];
  settings: NodeSettings;
  /** This node's memory of lease ETags (lease expiry, docs/protocol.md §4). */
  judge: ExpiryJudge;
  storeClock: StoreClock;
  /** The same, shaped for src/lease operations. */
  lease: AcquireContext;
}

/** Wall-clock ISO time for records; display only. */
export function isoNow(clock: Pick<Clock, 'now'>): string {
  return new Date(clock.now()).toISOString();
}
