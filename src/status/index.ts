/**
 * A run's status from the store (plus optional gossip): the one code path
 * behind `replay-node status` and the observer. JSON form: docs/status.md.
 *
 *   const reader = new RunReader({ store, clock, run });
 *   const state = await reader.refresh();            // later refreshes read only what changed
 *   const status = computeRunStatus(state, { now: { monotonic: clock.monotonic(), wall: clock.now() }, peers: hints.peerStates() });
 */
export * from './run-status.js';
export type { Entry, ResultSummary, RunState, Sighting, StoreClockSample } from './run-state.js';
export { RunReader, type RunReaderOptions } from './run-reader.js';
export { computeRunStatus, computeRunView, itemCell, type RunView, type StatusInput } from './compute-status.js';
export { CELL_CODES } from './item-states.js';
export { ageOf, isStale, STORE_CLOCK_MARGIN_MS, type Age } from './freshness.js';
export { formatDuration, formatStatus } from './format-status.js';
export { readItemDetail, type ItemDetail } from './item-detail.js';
export { nodeViews } from './node-views.js';
