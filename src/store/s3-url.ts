import { isSecretParam, redactSecrets, redactUrl } from '../util/redact.js';
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
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ...). A URL
 * that carries one (`user:pass@`, in the store URL or its endpoint, or a
 * parameter named like a secret) is refused, not accepted and redacted:
 * `Store.description` is built from the parsed location and printed
 * everywhere (status, observer, errors), and it must never need hiding.
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

const USE_THE_ENVIRONMENT = 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) or AWS_PROFILE in the environment instead';
const KNOWN_PARAMS = new Set(['endpoint', 'region', 'pathStyle', 'etagQuoting', 'timeoutMs']);
const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** AWS regions (us-east-1) and the names other servers use (MinIO, RGW zonegroups: "default", "zg-1"). */
const REGION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function parseS3Url(url: string, env: NodeJS.ProcessEnv = process.env): S3Location {
  const fail = (problem: string): never => {
    // The problem text may quote parts of the URL (an endpoint, a bucket): redacted as well.
    throw new StoreConfigError(redactSecrets(`store URL ${redactUrl(url)}: ${problem}; the form is s3://bucket/prefix?endpoint=http://host:port&region=us-east-1`));
  };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail('not a valid URL');
  }
  if (parsed.protocol !== 's3:') fail('not an s3:// URL');
  if (parsed.username || parsed.password) fail(`credentials do not belong in the URL (they would end up in logs); ${USE_THE_ENVIRONMENT}`);
  const bucket = parsed.hostname;
  if (!BUCKET_PATTERN.test(bucket)) fail(`"${bucket}" is not a valid bucket name (3-63 characters: a-z, 0-9, "." and "-")`);
  for (const name of parsed.searchParams.keys()) {
    if (isSecretParam(name)) fail(`parameter "${name}" looks like a credential, and credentials do not belong in the URL (they would end up in logs); ${USE_THE_ENVIRONMENT}`);
    if (!KNOWN_PARAMS.has(name)) fail(`unknown parameter "${name}" (known: ${[...KNOWN_PARAMS].join(', ')})`);
  }
  const prefix = decodeURIComponent(parsed.pathname).replace(/^\/+/, '').replace(/\/+$/, '');
  if (prefix.split('/').some((s) => s === '.' || s === '..') || prefix.includes('//')) fail(`prefix "${prefix}" has an empty, "." or ".." segment`);
  const q = parsed.searchParams;
  const endpoint = q.get('endpoint') ?? undefined;
  // Any @: a host name never has one, and a password with a "/" in it would hide from a stricter check.
  if (endpoint?.includes('@')) {
    fail(`the endpoint carries credentials (user:password@), which S3 does not use and logs would show; remove them and ${USE_THE_ENVIRONMENT}`);
  }
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) fail(`endpoint "${endpoint}" must be http(s)://host[:port]`);
  const pathStyle = booleanParam(q.get('pathStyle'), endpoint !== undefined, fail);
  const etagQuoting = (q.get('etagQuoting') ?? 'auto') as EtagQuotingSetting;
  if (!['auto', 'quoted', 'unquoted'].includes(etagQuoting)) fail(`etagQuoting must be auto, quoted or unquoted, not "${etagQuoting}"`);
  const timeoutMs = Number(q.get('timeoutMs') ?? 30_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) fail('timeoutMs must be a whole number of milliseconds >= 100');
  const region = q.get('region');
  // An empty one would reach the SDK, which fails every request with a bare "Region is missing".
  if (region !== null && !REGION_PATTERN.test(region)) fail(region === '' ? 'region is empty; give one (region=us-east-1) or leave the parameter out' : `region "${region}" is not a region name (like us-east-1)`);
  return {
    bucket,
    prefix: prefix ? `${prefix}/` : '',
    ...(endpoint !== undefined ? { endpoint: endpoint.replace(/\/$/, '') } : {}),
    region: region ?? (env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1'),
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

function booleanParam(value: string | null, fallback: boolean, fail: (problem: string) => never): boolean {
  if (value === null) return fallback;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return fail(`pathStyle must be true or false, not "${value}"`);
}
