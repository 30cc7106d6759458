import { randomUUID } from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { PrivateKey } from '@libp2p/interface';
import { PeerIdentityError } from './errors.js';
import { messageOf } from '../util/message-of.js';

/** Where the key lives inside a node's data directory. */
export const IDENTITY_FILE = 'gossip-identity.key';

export interface PeerIdentity {
  privateKey: PrivateKey;
  peerId: string;
  path: string;
  /** True when this call generated the key (first start with this data directory). */
  created: boolean;
  /** True when the file was readable by others and has been restricted to 0600. */
  tightened: boolean;
}

/**
 * The node's libp2p key (Ed25519, protobuf-encoded), persisted so the peer
 * id survives restarts: other nodes' records and logs keep meaning the same
 * host. The file is the node's secret, so it is written 0600 and a looser
 * mode found later is tightened.
 */
export async function loadOrCreateIdentity(dataDir: string): Promise<PeerIdentity> {
  const path = join(dataDir, IDENTITY_FILE);
  const existing = await readIdentity(path);
  if (existing) return existing;
  await mkdir(dataDir, { recursive: true });
  const privateKey = await generateKeyPair('Ed25519');
  // Written under a temporary name, then linked into place: a concurrent
  // starter with the same directory either wins or reads the winner's key.
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temporary, privateKeyToProtobuf(privateKey), { mode: 0o600 });
  try {
    await link(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readIdentity(path);
    if (winner) return winner;
  } finally {
    await rm(temporary, { force: true });
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), path, created: true, tightened: false };
}

async function readIdentity(path: string): Promise<PeerIdentity | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PeerIdentityError(path, `cannot read it (${messageOf(error)})`, { cause: error });
  }
  let privateKey: PrivateKey;
  try {
    privateKey = privateKeyFromProtobuf(bytes);
  } catch (error) {
    throw new PeerIdentityError(path, 'not a protobuf-encoded libp2p private key', { cause: error });
  }
  let tightened = false;
  if (((await stat(path)).mode & 0o077) !== 0) {
    await chmod(path, 0o600);
    tightened = true;
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), path, created: false, tightened };
}
