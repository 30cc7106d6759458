import { NotSupportedError, StoreError } from './errors.js';

/**
 * ETags cross the Store interface unquoted. On the wire, S3 sends them
 * quoted (`"abc"`), and servers disagree on what If-Match must carry: AWS
 * and MinIO take the quoted form, Ceph RGW 16 compares the header byte for
 * byte with its unquoted stored ETag, so a quoted If-Match always fails
 * there. The backend detects which form the endpoint accepts once, on a
 * scratch object, before its first compare-and-swap.
 */
export type EtagQuoting = 'quoted' | 'unquoted';

export function unquoteEtag(etag: string | undefined): string {
  if (!etag) return '';
  const trimmed = etag.startsWith('W/') ? etag.slice(2) : etag;
  return trimmed.replace(/^"(.*)"$/, '$1');
}

export function ifMatchValue(etag: string, quoting: EtagQuoting): string {
  const bare = unquoteEtag(etag);
  return quoting === 'quoted' ? `"${bare}"` : bare;
}

/** What the detection needs from the backend: raw writes to one scratch key. */
export interface EtagQuotingProbe {
  /** Creates the scratch object; resolves to its unquoted ETag. */
  create(body: string): Promise<string>;
  /** A compare-and-swap sending exactly `ifMatch`; true when accepted, false on 412 (or 404). */
  swap(ifMatch: string, body: string): Promise<{ accepted: true; etag: string } | { accepted: false }>;
  remove(): Promise<void>;
}

/**
 * Tries the unquoted form first (RGW's; AWS and MinIO accept it too, so a
 * second request is rare), then the quoted one. A store that refuses its
 * own current ETag in both forms cannot do compare-and-swap at all.
 */
export async function detectEtagQuoting(probe: EtagQuotingProbe): Promise<EtagQuoting> {
  const etag = await probe.create('etag quoting probe: 0');
  try {
    const bare = await probe.swap(ifMatchValue(etag, 'unquoted'), 'etag quoting probe: 1');
    if (bare.accepted) return 'unquoted';
    const quoted = await probe.swap(ifMatchValue(etag, 'quoted'), 'etag quoting probe: 2');
    if (quoted.accepted) return 'quoted';
    throw new NotSupportedError(
      'the store refused a compare-and-swap (If-Match) with the current ETag, quoted and unquoted; it cannot hold leases',
    );
  } finally {
    // Best effort: a scratch object left behind is harmless, while failing the
    // detection (and with it the caller's compare-and-swap) for a transient
    // error on its delete is not.
    await probe.remove().catch((error: unknown) => {
      if (!(error instanceof StoreError && error.retryable)) throw error;
    });
  }
}
