import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunNotFoundError } from '../../src/manifest/errors.js';
import { publishManifest } from '../../src/manifest/publish.js';
import { readManifest } from '../../src/manifest/read-manifest.js';
import { UnavailableError, WriteOutcomeUnknownError } from '../../src/store/errors.js';
import { createFileStore } from '../../src/store/file.js';
import { createMemoryStore, type MemoryStore } from '../../src/store/memory.js';
import type { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { systemClock } from '../../src/time/system-clock.js';
import { FaultyStore } from '../lease/support/faulty-store.js';
import { publishSuite } from './support/publish-suite.js';
import { sampleManifest } from './support/manifests.js';

describe('publish: memory store', () => {
  let store: MemoryStore;
  publishSuite({
    store: () => (store = createMemoryStore({ clock: new ManualClock() })),
    sameStore: () => store,
  });
});

describe('publish: file store (separate store instances on one directory, like separate processes)', () => {
  let root: string;
  const stores: Store[] = [];
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'manifest-publish-'));
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await rm(root, { recursive: true, force: true });
  });
  const open = (): Store => {
    const store = createFileStore(root, { clock: systemClock });
    stores.push(store);
    return store;
  };
  publishSuite({ store: open, sameStore: open });
});

describe('publish: ambiguous store answers', () => {
  const setup = () => {
    const inner = createMemoryStore({ clock: new ManualClock() });
    return { inner, faulty: new FaultyStore(inner) };
  };

  it('a write that landed but timed out counts as created, by reading our exact bytes back', async () => {
    const { inner, faulty } = setup();
    faulty.putFaults.push('unknown-after');
    const manifest = sampleManifest('run-a');
    expect((await publishManifest(faulty, manifest)).outcome).toBe('created');
    expect((await readManifest(inner, 'run-a')).manifest).toEqual(manifest);
  });

  it('a write that timed out before landing is tried again', async () => {
    const { inner, faulty } = setup();
    faulty.putFaults.push('unknown-before', 'unknown-before');
    expect((await publishManifest(faulty, sampleManifest('run-a'))).outcome).toBe('created');
    expect(faulty.puts).toBe(3);
    expect((await readManifest(inner, 'run-a')).manifest.run).toBe('run-a');
  });

  it('gives up with the store error after three ambiguous attempts that did not land', async () => {
    const { faulty } = setup();
    faulty.failAllPuts = 'unknown-before';
    await expect(publishManifest(faulty, sampleManifest('run-a'))).rejects.toBeInstanceOf(WriteOutcomeUnknownError);
    expect(faulty.puts).toBe(3);
  });

  it('an unavailable store fails the publish without a retry loop (nothing was written)', async () => {
    const { inner, faulty } = setup();
    faulty.putFaults.push('unavailable');
    await expect(publishManifest(faulty, sampleManifest('run-a'))).rejects.toBeInstanceOf(UnavailableError);
    await expect(readManifest(inner, 'run-a')).rejects.toBeInstanceOf(RunNotFoundError);
  });
});
