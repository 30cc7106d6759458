import { describe, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { listRuns } from '../../src/manifest/list-runs.js';
import { publishManifest } from '../../src/manifest/publish.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { create } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { sampleManifest } from './support/manifests.js';

describe('listRuns', () => {
  it('lists runs in id order with their manifests, and leftovers with the problem', async () => {
    const store = createMemoryStore({ clock: new ManualClock() });
    await publishManifest(store, sampleManifest('b-run', { replicas: 2 }));
    await publishManifest(store, sampleManifest('a-run'));
    await publishManifest(store, sampleManifest('b-run.x')); // '.' sorts before '/': must not be skipped
    // Many objects in one run must not cost requests.
    for (let i = 0; i < 300; i++) await store.put(runKeys('a-run').lease(`${String(i).padStart(10, '0')}-${String(i + 1).padStart(10, '0')}`), '{}', create);
    await store.put(runKeys('c-orphan').result('0000000000-0000000001'), '{}', create);
    await store.put(runKeys('d-bad').manifest, 'not json', create);
    await store.put('runs/README', 'operators: one directory per run', create);
    await store.put('snapshots/s-0.bin', 'x', create);

    store.resetCounters();
    const runs = await listRuns(store);
    expect(runs.map((r) => [r.run, r.manifest?.replicas ?? r.problem])).toEqual([
      ['a-run', 1],
      ['b-run', 2],
      ['b-run.x', 1],
      ['c-orphan', 'no manifest.json'],
      ['d-bad', 'corrupt object runs/d-bad/manifest.json: not valid JSON; delete or fix it (it is skipped until then)'],
    ]);
    // One list per run, one for runs/README, one that finds the end; one get per run.
    expect(store.counters.list).toBe(7);
    expect(store.counters.get).toBe(5);
  });

  it('an empty store has no runs', async () => {
    expect(await listRuns(createMemoryStore({ clock: new ManualClock() }))).toEqual([]);
  });
});
