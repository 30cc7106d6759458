/**
 * Chain continuity: the state a replay ends with at block N must be the
 * state the next interval starts from, so interval i's end hash must equal
 * interval i+1's start hash wherever both are known (with replicas: every
 * replica's end hash against every next replica's start hash).
 */
import type { ManifestItem } from '../manifest/items.js';
import type { RunState } from './run-state.js';
import type { ContinuityBreak } from './run-status.js';

export function checkContinuity(state: RunState): { checked: number; breaks: ContinuityBreak[] } {
  const groups: ManifestItem[][] = [];
  for (const item of state.items) {
    const last = groups.at(-1);
    if (last && last[0]!.start === item.start && last[0]!.end === item.end) last.push(item);
    else groups.push([item]);
  }
  let checked = 0;
  const breaks: ContinuityBreak[] = [];
  for (let i = 0; i + 1 < groups.length; i++) {
    const ending = groups[i]!;
    const starting = groups[i + 1]!;
    if (ending[0]!.end !== starting[0]!.start) continue;
    const ends = ending.flatMap((item) => {
      const result = state.results.get(item.id)?.value;
      return result ? [{ item: item.id, hash: result.endHash }] : [];
    });
    const starts = starting.flatMap((item) => {
      const hash = state.results.get(item.id)?.value?.startHash;
      return hash ? [{ item: item.id, hash }] : [];
    });
    if (ends.length === 0 || starts.length === 0) continue;
    checked += 1;
    for (const end of ends) {
      for (const start of starts) {
        if (end.hash.toLowerCase() === start.hash.toLowerCase()) continue;
        breaks.push({ block: ending[0]!.end, endItem: end.item, endHash: end.hash, startItem: start.item, startHash: start.hash });
      }
    }
  }
  return { checked, breaks };
}
