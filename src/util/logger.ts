import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs (pino, JSON lines on stderr so stdout stays for command
 * output). Credential-looking fields are redacted wherever they appear.
 */
export function createLogger(options: { name: string; level?: string; destination?: number }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: {
        paths: [
          'secretAccessKey', '*.secretAccessKey', 'accessKeyId', '*.accessKeyId',
          'sessionToken', '*.sessionToken', 'credentials', '*.credentials', 'password', '*.password',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ fd: options.destination ?? 2, sync: true }),
  );
}

/** A logger that drops everything (tests, quiet commands). */
export const silentLogger: Logger = pino({ level: 'silent' });
