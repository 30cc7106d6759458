/**
 * Chain continuity: the state a replay ends with at block N must be the
 * state the next interval starts from, so interval i's end hash must equal
 * interval i+1's start hash wherever both are known (with replicas: every
 * replica's end hash against every next replica's start hash). Hashes are
 * lower-cased when read (run-state.ts), so plain comparison is enough.
 */
import type { RunState } from './run-state.js';
import type { ContinuityBreak } from './run-status.js';

interface Known {
  item: string;
  hash: string;
}

export function checkContinuity(state: RunState): { checked: number; breaks: ContinuityBreak[] } {
  if ((state.manifest?.replicas ?? 1) === 1) return checkSingle(state);
  const items = state.items;
  let checked = 0;
  const breaks: ContinuityBreak[] = [];
  let previousEnd = -1;
  let previousEnds: Known[] = [];
  for (let i = 0; i < items.length; ) {
    const { start, end } = items[i]!;
    const ends: Known[] = [];
    const starts: Known[] = [];
    // The replicas of one interval are next to each other in manifest order.
    for (; i < items.length && items[i]!.start === start && items[i]!.end === end; i++) {
      const id = items[i]!.id;
      const result = state.results.get(id)?.value;
      if (!result) continue;
      ends.push({ item: id, hash: result.endHash });
      if (result.startHash) starts.push({ item: id, hash: result.startHash });
    }
    if (previousEnd === start && previousEnds.length > 0 && starts.length > 0) {
      checked += 1;
      for (const e of previousEnds) {
        for (const s of starts) if (e.hash !== s.hash) breaks.push({ block: start, endItem: e.item, endHash: e.hash, startItem: s.item, startHash: s.hash });
      }
    }
    previousEnd = end;
    previousEnds = ends;
  }
  return { checked, breaks };
}

/** One item per interval (the common case): each result against the previous one, no allocation per item. */
function checkSingle(state: RunState): { checked: number; breaks: ContinuityBreak[] } {
  let checked = 0;
  const breaks: ContinuityBreak[] = [];
  let previous: { id: string; end: number; hash: string } | undefined;
  for (const item of state.items) {
    const result = state.results.get(item.id)?.value;
    if (result && previous && previous.end === item.start && result.startHash) {
      checked += 1;
      if (previous.hash !== result.startHash) breaks.push({ block: item.start, endItem: previous.id, endHash: previous.hash, startItem: item.id, startHash: result.startHash });
    }
    previous = result ? { id: item.id, end: item.end, hash: result.endHash } : undefined;
  }
  return { checked, breaks };
}
