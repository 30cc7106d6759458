import { pino, type Logger } from 'pino';
import { redactError, redactFields, redactSecrets } from './redact.js';

export type { Logger };

/**
 * Structured logs (pino, JSON lines on stderr so stdout stays for command
 * output). Credentials are never logged, in three layers: pino's redact
 * paths for the fields we know (fast, exact), a pass over every field of
 * every record (secret-named fields at any depth, secret shapes inside any
 * string: a URL with user:pass@, `AWS_SECRET_ACCESS_KEY=` in a message;
 * src/util/redact.ts), and serializers for what that pass cannot see
 * (errors' message and stack, the message string itself, a child logger's
 * `url`/`store`/`endpoint` binding).
 */
export function createLogger(options: { name: string; level?: string; destination?: number }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      ...redactingOptions,
    },
    pino.destination({ fd: options.destination ?? 2, sync: true }),
  );
}

const SECRET_PATHS = [
  'secretAccessKey', 'accessKeyId', 'sessionToken', 'credentials', 'password', 'token', 'authorization', 'swarmKey',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID',
];

const redactText = (value: unknown): unknown => (typeof value === 'string' ? redactSecrets(value) : redactFields(value, 1));
const redactErrorValue = (value: unknown): unknown => (value instanceof Error ? redactError(value) : redactFields(value, 1));

/** The redaction part of the logger's options (exported for tests that log to a stream). */
export const redactingOptions = {
  redact: { paths: SECRET_PATHS.flatMap((path) => [path, `*.${path}`]), censor: '[redacted]' },
  serializers: {
    err: redactErrorValue,
    error: redactErrorValue,
    cause: redactErrorValue,
    msg: redactText,
    // Also applied to a child logger's bindings, which the pass over fields does not see.
    url: redactText,
    store: redactText,
    endpoint: redactText,
  },
  formatters: {
    log: (fields: Record<string, unknown>) => redactFields(fields) as Record<string, unknown>,
  },
} satisfies pino.LoggerOptions;

/** A logger that drops everything (tests, quiet commands). */
export const silentLogger: Logger = pino({ level: 'silent' });
