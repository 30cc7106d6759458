import { schemaOf } from '../layout/schema.js';
import { SnapshotHashError } from './errors.js';

/**
 * What the store says about a snapshot's bytes, beside the snapshot, so a
 * manifest can carry its sha256 without reading tens of GB (docs/manifests.md):
 *
 *   snapshots/<name>.json             the record, written once (create-if-absent)
 *                                     by whoever uploads <name>.bin.zst or <name>.bin:
 *                                     { "schema": "replay/snapshot/v1", "sha256": "<hex>", "size": <bytes> }
 *   snapshots/<name>.bin.zst.sha256   `sha256sum` output for it: `<hex>  <name>.bin.zst`
 *
 * `sha256` and `size` are of the object as stored (compressed), which is what
 * the runner hashes while it downloads. Other fields are allowed and ignored.
 */
export interface SnapshotRecord {
  /** 64 hex digits, lowercased here. */
  sha256: string;
  /** Bytes of the stored object, when the writer knew them. */
  size?: number;
}

/** Records and `.sha256` files are a few hundred bytes; anything far larger is not one (and is not read). */
export const MAX_COMPANION_BYTES = 64 * 1024;

const SHA256 = /^[0-9a-fA-F]{64}$/;

/** @throws SnapshotHashError naming `key` when the body is not a sound record */
export function decodeSnapshotRecord(key: string, body: Uint8Array | string): SnapshotRecord {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    throw corrupt(key, 'not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(key, 'not a JSON object');
  const { schema, sha256, size } = value as Record<string, unknown>;
  if (schema !== undefined && schema !== schemaOf('snapshot')) throw corrupt(key, `schema is ${JSON.stringify(schema)}, expected "${schemaOf('snapshot')}"`);
  if (sha256 === undefined) throw corrupt(key, 'it has no sha256');
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) throw corrupt(key, `sha256 is ${describe(sha256)}, not 64 hex digits`);
  if (size !== undefined && !(typeof size === 'number' && Number.isSafeInteger(size) && size >= 0)) throw corrupt(key, `size is ${describe(size)}, not a byte count`);
  return size === undefined ? { sha256: sha256.toLowerCase() } : { sha256: sha256.toLowerCase(), size };
}

/**
 * The hash in a `.sha256` file: its first line, `<hex>`, or `<hex>  <file>`
 * / `<hex> *<file>` as `sha256sum` prints it, where the file's base name
 * must be the snapshot's (a file for another object is corrupt).
 *
 * @throws SnapshotHashError naming `key` when it is not such a line
 */
export function decodeSha256File(key: string, body: Uint8Array | string, snapshotKey: string): string {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const line = text.split(/\r?\n/)[0]!.trim();
  const match = /^([0-9a-fA-F]{64})(?:\s+\*?(.+))?$/.exec(line);
  if (!match) throw corrupt(key, `first line ${JSON.stringify(line.slice(0, 80))} is not "<64 hex digits>  <file name>"`, '.sha256 file');
  const named = match[2]?.trim();
  const expected = baseName(snapshotKey);
  if (named !== undefined && baseName(named) !== expected) throw corrupt(key, `it is for ${JSON.stringify(named)}, not ${expected}`, '.sha256 file');
  return match[1]!.toLowerCase();
}

function corrupt(key: string, problem: string, what = 'snapshot record'): SnapshotHashError {
  return new SnapshotHashError(key, `corrupt ${what} ${key}: ${problem}; fix or delete it, then publish again`);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
