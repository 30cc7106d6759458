/**
 * The one place that knows what a secret looks like. Everything that leaves
 * a process as text (CLI error lines, pino logs, failure records with a
 * nodeos log tail, the observer's pages built from them) goes through here,
 * so a new shape is taught once. Redaction errs on the side of hiding: a
 * false positive costs a `[redacted]` in a log line, a miss costs a key
 * rotation.
 *
 * Shapes:
 * - userinfo in any URL: `scheme://user:pass@host` (also percent-encoded,
 *   as in `?endpoint=http%3A%2F%2Fu%3Ap%40host`);
 * - `name=value` where the name looks secret (query parameters, env dumps,
 *   `Credential=`/`Signature=` of a SigV4 header), and `name = value` (ini
 *   lines, config.ini) for the strong names;
 * - `name: value` and `"name": "value"` for the strong names only (a bare
 *   `key:` is a store key in this project's messages, not a secret);
 * - `Bearer`/`Basic` authorization values;
 * - Antelope private keys (`PVT_K1_...`, legacy WIF `5H/5J/5K...`).
 */
export const REDACTED = '[redacted]';

/** Name fragments that mark a secret wherever they appear in a field, parameter or variable name. */
const STRONG = String.raw`(?:secret|passw(?:or)?d|pass[_-]?phrase|token|credential|signature|api[_-]?key|access[_-]?key|private[_-]?key|swarm[_-]?key|authorization|cookie)`;
const STRONG_NAME = String.raw`[\w.-]*?${STRONG}[\w.-]*`;
/** In `name=value` (URLs, env) a looser net: also `key`, `...Key`, `..._KEY_ID`, `pass`, `auth`, `sig`, `psk`. */
const PARAM_NAME = String.raw`(?:${STRONG_NAME}|[\w.-]*key(?:[_-]?id)?|pass|auth|sig|psk)`;
/** A value: quoted (kept quoted, so JSON and shell text stay well-formed), or up to a delimiter. */
const VALUE = String.raw`("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s&"'<>,;]+)`;
const NOT_NAME_BEFORE = String.raw`(?<![\w.-])`;

const STRONG_NAME_PATTERN = new RegExp(`^${STRONG_NAME}$`, 'i');
const PARAM_NAME_PATTERN = new RegExp(`^${PARAM_NAME}$`, 'i');

const PATTERNS: Array<[RegExp, (match: string, ...groups: string[]) => string]> = [
  // scheme://userinfo@ (greedy to the last @ of the authority: a password may hold an unencoded @).
  [/([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>&]*@/gi, (_m, scheme) => `${scheme}${REDACTED}@`],
  [/([a-z][a-z0-9+.-]*%3A%2F%2F)[^\s/?#"'<>&]*%40/gi, (_m, scheme) => `${scheme}${REDACTED}%40`],
  // An environment variable dump (`AWS_SECRET_ACCESS_KEY=...`): the value is the rest of the line, spaces and all.
  [new RegExp(`${NOT_NAME_BEFORE}([A-Z][A-Z0-9_]*(?:SECRET|PASSWORD|PASSWD|PASSPHRASE|TOKEN|CREDENTIALS?|SIGNATURE|_KEY|_KEY_ID|_PSK)[A-Z0-9_]*)=[^\r\n]*`, 'g'),
    (_m, name) => `${name}=${REDACTED}`],
  // Before `name: value`, which would otherwise take "Bearer" for the value of `Authorization:`.
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, (_m, scheme) => `${scheme} ${REDACTED}`],
  // Strong names also in ini form (`name = value`); the looser ones only as `name=value` (a message saying
  // "expected key = value" is not a secret). Never `==`: that is a comparison.
  [new RegExp(`${NOT_NAME_BEFORE}(${STRONG_NAME})(\\s*=(?!=)\\s*)${VALUE}`, 'gi'), (_m, name, eq, value) => `${name}${eq}${quoted(value!)}`],
  [new RegExp(`${NOT_NAME_BEFORE}(${PARAM_NAME})=(?!=)${VALUE}`, 'gi'), (_m, name, value) => `${name}=${quoted(value!)}`],
  [new RegExp(`${NOT_NAME_BEFORE}(["']?)(${STRONG_NAME})\\1(\\s*:\\s*)${VALUE}`, 'gi'),
    (_m, quote, name, colon, value) => `${quote}${name}${quote}${colon}${quoted(value!)}`],
  [/\bPVT_(?:K1|R1|WA)_[1-9A-HJ-NP-Za-km-z]{40,}/g, () => REDACTED],
  [/(?<![1-9A-HJ-NP-Za-km-z])5[HJK][1-9A-HJ-NP-Za-km-z]{49}(?![1-9A-HJ-NP-Za-km-z])/g, () => REDACTED],
];

/** A replacement value in the original's quoting. */
function quoted(value: string): string {
  const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
  return `${quote}${REDACTED}${quote}`;
}

/** Something every shape contains: most nodeos lines have none, and skip the patterns (a replay logs a lot). */
const ANCHOR = new RegExp(String.raw`://|%3A%2F%2F|=|${STRONG}|Bearer|Basic|PVT_|5[HJK]`, 'i');

/** Text with every secret shape replaced by `[redacted]`. Idempotent. */
export function redactSecrets(text: string): string {
  if (!ANCHOR.test(text)) return text;
  let out = text;
  for (const [pattern, replace] of PATTERNS) out = out.replace(pattern, replace as (m: string, ...g: unknown[]) => string);
  return out;
}

/** True for a field name (logs, JSON) whose value is a secret: `secretAccessKey`, `sessionToken`, `password`, ... */
export function isSecretField(name: string): boolean {
  return STRONG_NAME_PATTERN.test(name);
}

/** True for a URL query parameter or variable name that carries a secret (a looser net: `key`, `accessKeyId`, ...). */
export function isSecretParam(name: string): boolean {
  return PARAM_NAME_PATTERN.test(name);
}

/**
 * A URL someone typed (a store URL), as it may appear in a message. Stricter
 * than text: userinfo reaches to the last @ even across a "/" (an unencoded
 * "/" in a password), and the query is read decoded, so a secret hidden by
 * percent-encoding (`secret%41ccessKey=`) is caught too; such a query is
 * printed decoded, with the values redacted.
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  const base = redactTypedUrl(at < 0 ? url : url.slice(0, at));
  if (at < 0) return base;
  const rawQuery = url.slice(at + 1);
  const pairs = [...new URLSearchParams(rawQuery.replace(/#.*$/, ''))];
  const leaks = pairs.some(([name, value]) => isSecretParam(name) || redactTypedUrl(value) !== value);
  if (!leaks) return `${base}?${redactSecrets(rawQuery)}`;
  return `${base}?${pairs.map(([name, value]) => `${name}=${isSecretParam(name) ? REDACTED : redactTypedUrl(value)}`).join('&')}`;
}

function redactTypedUrl(text: string): string {
  return redactSecrets(text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s?#"'<>&]*@/gi, (_m, scheme: string) => `${scheme}${REDACTED}@`));
}

/**
 * A deep copy of a log record's fields with secret-named fields replaced and
 * every string redacted. Errors at the top level are left to the logger's
 * error serializer (it keeps their type and stack); nested ones become
 * plain redacted objects.
 */
export function redactFields(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value) || depth > 8) return '[nested]';
  if (value instanceof Error) return depth === 1 ? value : redactError(value);
  if (Array.isArray(value)) {
    seen.add(value);
    return value.map((v) => redactFields(v, depth + 1, seen));
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = isSecretField(k) && v !== undefined ? REDACTED : redactFields(v, depth + 1, seen);
  return out;
}

/** An error as a plain object with its message and stack redacted. */
export function redactError(error: Error): Record<string, unknown> {
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: redactSecrets(error.message),
    ...(error.stack ? { stack: redactSecrets(error.stack) } : {}),
    ...(typeof code === 'string' ? { code } : {}),
  };
}
