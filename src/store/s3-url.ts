import { StoreConfigError } from './errors.js';

/**
 * `s3://bucket/prefix?endpoint=http://127.0.0.1:7480&region=us-east-1&pathStyle=true`
 *
 * - bucket: required; prefix: optional, every key lives below it.
 * - endpoint: for S3-compatible servers (MinIO, Ceph RGW, R2); absent: AWS.
 * - region: default AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1.
 * - pathStyle: `bucket` in the path instead of the host name; default true
 *   with an endpoint (what MinIO and RGW need), false on AWS.
 * - etagQuoting: `auto` (detect on the first compare-and-swap), `quoted`
 *   or `unquoted` (skip the detection when the endpoint is known).
 * - timeoutMs: per-request socket timeout (default 30000).
 *
 * Credentials never go in the URL: they come from the standard AWS chain
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...).
 */
export interface S3Location {
  bucket: string;
  /** '' or ends with '/'. */
  prefix: string;
  endpoint?: string;
  region: string;
  pathStyle: boolean;
  etagQuoting: EtagQuotingSetting;
  timeoutMs: number;
}

export type EtagQuotingSetting = 'auto' | 'quoted' | 'unquoted';

const KNOWN_PARAMS = new Set(['endpoint', 'region', 'pathStyle', 'etagQuoting', 'timeoutMs']);
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseS3Url(url: string, env: NodeJS.ProcessEnv = process.env): S3Location {
  const fail = (problem: string): never => {
    throw new StoreConfigError(`store URL ${redactUrl(url)}: ${problem}; the form is s3://bucket/prefix?endpoint=http://host:port&region=us-east-1`);
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('not a valid URL');
  }
  if (parsed.protocol !== 's3:') fail('not an s3:// URL');
  if (parsed.username || parsed.password) {
    fail('credentials do not belong in the URL (they would end up in logs); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE instead');
  }
  const bucket = parsed.hostname;
  if (!BUCKET_PATTERN.test(bucket)) fail(`"${bucket}" is not a valid bucket name (3-63 characters: a-z, 0-9, "." and "-")`);
  for (const name of parsed.searchParams.keys()) {
    if (!KNOWN_PARAMS.has(name)) fail(`unknown parameter "${name}" (known: ${[...KNOWN_PARAMS].join(', ')})`);
  }
  const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+/, '').replace(/\/+$/, '');
  if (prefix.split('/').some((s) => s === '.' || s === '..') || prefix.includes('//')) fail(`prefix "${prefix}" has an empty, "." or ".." segment`);
  const q = parsed.searchParams;
  const endpoint = q.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) fail(`endpoint "${endpoint}" must be http(s)://host[:port]`);
  const pathStyle = booleanParam(q.get('pathStyle'), endpoint !== undefined, fail);
  const etagQuoting = (q.get('etagQuoting') ?? 'auto') as EtagQuotingSetting;
  if (!['auto', 'quoted', 'unquoted'].includes(etagQuoting)) fail(`etagQuoting must be auto, quoted or unquoted, not "${etagQuoting}"`);
  const timeoutMs = Number(q.get('timeoutMs') ?? 30_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) fail('timeoutMs must be a whole number of milliseconds >= 100');
  return {
    bucket,
    prefix: prefix ? `${prefix}/` : '',
    ...(endpoint !== undefined ? { endpoint: endpoint.replace(/\/$/, '') } : {}),
    region: q.get('region') ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    pathStyle,
    etagQuoting,
    timeoutMs,
  };
}

/** The canonical URL of a location, for `Store.description` (no credentials: they are never in it). */
export function formatS3Url(l: S3Location): string {
  const params = new URLSearchParams();
  if (l.endpoint) params.set('endpoint', l.endpoint);
  params.set('region', l.region);
  if (l.pathStyle !== (l.endpoint !== undefined)) params.set('pathStyle', String(l.pathStyle));
  return `s3://${l.bucket}/${l.prefix.replace(/\/$/, '')}?${params.toString().replace(/%3A/g, ':').replace(/%2F/g, '/')}`;
}

/** A URL as it may appear in a message: any user:password part replaced. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z0-9+.-]+:\/\/)[^/@]*@/i, '$1[redacted]@');
}

function booleanParam(value: string | null, fallback: boolean, fail: (problem: string) => never): boolean {
  if (value === null) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return fail(`pathStyle must be true or false, not "${value}"`);
}
