import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { PeerIdentityError } from '../../src/gossip/errors.js';
import { IDENTITY_FILE, loadOrCreateIdentity } from '../../src/gossip/identity.js';

const freshDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'gossip-identity-'));

describe('loadOrCreateIdentity', () => {
  it('creates an Ed25519 key readable by its owner only, and returns the same peer id after a restart', async () => {
    const dir = join(await freshDir(), 'data', 'node-a');
    const first = await loadOrCreateIdentity(dir);
    expect(first.created).toBe(true);
    expect(first.privateKey.type).toBe('Ed25519');
    expect((await stat(join(dir, IDENTITY_FILE))).mode & 0o777).toBe(0o600);
    const stored = privateKeyFromProtobuf(await readFile(join(dir, IDENTITY_FILE)));
    expect(peerIdFromPrivateKey(stored).toString()).toBe(first.peerId);

    const again = await loadOrCreateIdentity(dir);
    expect(again).toMatchObject({ peerId: first.peerId, created: false, tightened: false });
  });

  it('restricts a key file that others can read', async () => {
    const dir = await freshDir();
    const { peerId } = await loadOrCreateIdentity(dir);
    await chmod(join(dir, IDENTITY_FILE), 0o644);
    expect(await loadOrCreateIdentity(dir)).toMatchObject({ peerId, tightened: true });
    expect((await stat(join(dir, IDENTITY_FILE))).mode & 0o777).toBe(0o600);
  });

  it('refuses a file that is not a key, naming it', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, IDENTITY_FILE), 'not a key');
    const error = await loadOrCreateIdentity(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeerIdentityError);
    expect((error as Error).message).toContain(join(dir, IDENTITY_FILE));
  });

  it('gives concurrent starters with one data directory the same identity', async () => {
    const dir = await freshDir();
    const all = await Promise.all(Array.from({ length: 6 }, () => loadOrCreateIdentity(dir)));
    expect(new Set(all.map((identity) => identity.peerId)).size).toBe(1);
    expect(all.filter((identity) => identity.created)).toHaveLength(1);
  });
});
