import { createHash, type Hash } from 'node:crypto';

/**
 * ETags of the file and memory backends: a content hash, so equal content
 * means equal ETag on every host and a rewrite of the same bytes is not a new
 * version (as with S3's MD5 ETags). sha256, truncated to 128 bits (32 hex
 * digits, the length of an S3 ETag): collisions stay out of reach.
 */
const ETAG_HEX_DIGITS = 32;

export function contentEtag(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex').slice(0, ETAG_HEX_DIGITS);
}

/** Incremental form, for streamed bodies. */
export class EtagHasher {
  private readonly hash: Hash = createHash('sha256');

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }

  digest(): string {
    return this.hash.digest('hex').slice(0, ETAG_HEX_DIGITS);
  }
}

export function toBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}
