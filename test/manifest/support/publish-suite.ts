import { expect, it } from 'vitest';
import { ManifestConflictError } from '../../../src/manifest/errors.js';
import { publishManifest } from '../../../src/manifest/publish.js';
import { readManifest } from '../../../src/manifest/read-manifest.js';
import { runKeys } from '../../../src/layout/keys.js';
import { CorruptObjectError, encodeJson } from '../../../src/layout/schema.js';
import { create, isNotModified, type Store } from '../../../src/store/store.js';
import { sampleManifest } from './manifests.js';

export interface PublishSuiteSetup {
  /** A fresh, empty store (a new one per test). */
  store(): Store;
  /** Another client of the same store (another process would see it this way). */
  sameStore(): Store;
}

const bodyOf = async (store: Store, key: string): Promise<string> => {
  const object = await store.get(key);
  if (isNotModified(object)) throw new Error('unexpected NotModified');
  return Buffer.from(object.body).toString('utf8');
};

/** Publish semantics every backend must give: create-if-absent, identical = no-op, different = refused. */
export function publishSuite(setup: PublishSuiteSetup): void {
  it('writes runs/<run>/manifest.json as pretty JSON, readable back', async () => {
    const store = setup.store();
    const manifest = sampleManifest('run-a');
    const outcome = await publishManifest(store, manifest);
    expect(outcome).toMatchObject({ outcome: 'created', key: 'runs/run-a/manifest.json' });
    expect(await bodyOf(store, 'runs/run-a/manifest.json')).toBe(encodeJson(manifest));
    expect((await readManifest(setup.sameStore(), 'run-a')).manifest).toEqual(manifest);
  });

  it('publishing the same run again is a no-op, even at another time from another file', async () => {
    const store = setup.store();
    const first = sampleManifest('run-a');
    const created = await publishManifest(store, first);
    const again = sampleManifest('run-a', { createdAt: '2026-03-02T00:00:00.000Z', source: { kind: 'spacing', file: 'other.tsv' } });
    const outcome = await publishManifest(setup.sameStore(), again);
    expect(outcome.outcome).toBe('identical');
    expect(outcome.etag).toBe(created.etag);
    expect(await bodyOf(store, 'runs/run-a/manifest.json')).toBe(encodeJson(first));
  });

  it('refuses a different manifest under an existing run id, naming what differs, and keeps the first', async () => {
    const store = setup.store();
    const first = sampleManifest('run-a');
    await publishManifest(store, first);
    const different = sampleManifest('run-a', { replicas: 2, defaults: { maxAttempts: 5 } });
    const error = await publishManifest(setup.sameStore(), different).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestConflictError);
    expect((error as ManifestConflictError).differences).toEqual(['defaults', 'replicas']);
    expect((error as Error).message).toBe(
      'run run-a already has a different manifest (published 2026-03-01T10:00:00.000Z; differs in defaults, replicas); ' +
        'runs are immutable: publish under a new run id, or use "replay-manifest rerun" to derive one',
    );
    expect(await bodyOf(store, 'runs/run-a/manifest.json')).toBe(encodeJson(first));
  });

  it('of concurrent publishes of different manifests under one run id, exactly one wins', async () => {
    setup.store();
    const contenders = Array.from({ length: 8 }, (_, i) => sampleManifest('run-race', { defaults: { leaseTtlMs: 10_000 + i } }));
    const outcomes = await Promise.allSettled(contenders.map((m) => publishManifest(setup.sameStore(), m)));
    const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ManifestConflictError);
    expect((await readManifest(setup.sameStore(), 'run-race')).manifest).toEqual(contenders[winners[0]!]);
  });

  it('reports a corrupt object under the run id instead of overwriting or accepting it', async () => {
    const store = setup.store();
    await store.put(runKeys('run-c').manifest, '{"schema": "replay/manifest/v1", "run": "run-c"', create);
    await expect(publishManifest(store, sampleManifest('run-c'))).rejects.toBeInstanceOf(CorruptObjectError);
    await expect(readManifest(store, 'run-c')).rejects.toThrow(/corrupt object runs\/run-c\/manifest\.json: not valid JSON/);
    await store.put(runKeys('run-d').manifest, encodeJson({ ...sampleManifest('run-d'), run: 'run-x' }), create);
    await expect(readManifest(store, 'run-d')).rejects.toThrow(/run is "run-x" but the manifest is stored under run run-d/);
  });
}
