import { describe, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { encodeJson } from '../../src/layout/schema.js';
import { buildManifest } from '../../src/manifest/build-manifest.js';
import { ManifestWatch } from '../../src/node/manifest-watch.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { overwrite } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';

/** The manifest watch's cost: with the ETag join read the manifest with, not even its first look reads the body. */
describe('manifest watch', () => {
  const manifest = buildManifest({ run: 'r1', createdAt: '2026-01-01T00:00:00Z', intervals: [{ start: 0, end: 100 }], defaults: { leaseTtlMs: 60_000 } });
  const key = runKeys('r1').manifest;

  it("starts from join's ETag: every look is a 304 until the manifest changes, which it then names", async () => {
    const clock = new ManualClock();
    const store = createMemoryStore({ clock });
    const { etag } = await store.put(key, encodeJson(manifest), overwrite);
    const watch = new ManifestWatch({ store, clock, run: 'r1', manifest, everyMs: 1_000, etag });
    expect(await watch.check()).toBeUndefined();
    await clock.advance(1_000);
    expect(await watch.check()).toBeUndefined();
    expect(store.counters).toMatchObject({ get: 2, getNotModified: 2 });

    const replaced = buildManifest({ run: 'r1', createdAt: '2026-01-01T00:00:00Z', intervals: [{ start: 0, end: 200 }], defaults: { leaseTtlMs: 60_000 } });
    await store.put(key, encodeJson(replaced), overwrite);
    await clock.advance(1_000);
    expect(await watch.check()).toMatch(/was replaced/);
  });

  it('without an ETag the first look reads the body and compares it', async () => {
    const clock = new ManualClock();
    const store = createMemoryStore({ clock });
    await store.put(key, encodeJson(manifest), overwrite);
    const watch = new ManifestWatch({ store, clock, run: 'r1', manifest, everyMs: 1_000 });
    expect(await watch.check()).toBeUndefined();
    expect(store.counters).toMatchObject({ get: 1, getNotModified: 0 });
  });
});
