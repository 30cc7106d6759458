import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { SwarmKeyError } from './errors.js';
import { messageOf } from '../util/message-of.js';

/**
 * The optional pre-shared key of a private gossip network (libp2p pnet, the
 * same 3-line file format as IPFS's swarm.key). Nodes without the same key
 * cannot even finish a handshake with each other.
 */
const HEADER = '/key/swarm/psk/1.0.0/';
const CODEC = '/base16/';
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const FORMAT_HINT =
  `; expected 3 lines (${HEADER}, ${CODEC}, 64 hex digits), as written by \`replay-node swarm-key --out FILE\``;

/** Reads and checks a swarm key file; returns it normalised, as pnet's `preSharedKey({ psk })` wants it. */
export async function readSwarmKey(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? messageOf(error);
    throw new SwarmKeyError(path, `cannot read it (${why}); give every node of the run the same key file, made once with \`replay-node swarm-key --out FILE\``, { cause: error });
  }
  return parseSwarmKey(text, path);
}

export function parseSwarmKey(text: string, path = '<swarm key>'): Uint8Array {
  const lines = text.split(/\r\n|\r|\n/).map((line) => line.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length !== 3) throw new SwarmKeyError(path, `has ${lines.length} lines, not 3` + FORMAT_HINT);
  if (lines[0] !== HEADER) throw new SwarmKeyError(path, `first line is not ${HEADER}` + FORMAT_HINT);
  if (lines[1] !== CODEC) throw new SwarmKeyError(path, `second line is not ${CODEC} (only base16 keys are supported)` + FORMAT_HINT);
  if (!HEX_KEY.test(lines[2]!)) throw new SwarmKeyError(path, 'third line is not 64 hex digits (a 32-byte key)' + FORMAT_HINT);
  return new TextEncoder().encode(`${HEADER}\n${CODEC}\n${lines[2]!.toLowerCase()}`);
}

/** A new random key in the file format (crypto randomness: a key is not a test-replayable id). */
export function generateSwarmKey(): string {
  return `${HEADER}\n${CODEC}\n${randomBytes(32).toString('hex')}\n`;
}

/** Writes a new key file readable by its owner only; refuses to replace an existing file. */
export async function writeNewSwarmKey(path: string): Promise<void> {
  try {
    await writeFile(path, generateSwarmKey(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new SwarmKeyError(path, 'already exists (not replaced: nodes using it would be cut off)');
    throw new SwarmKeyError(path, `cannot write it (${code ?? messageOf(error)})`, { cause: error });
  }
}
