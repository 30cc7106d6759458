import { pino, type Logger } from 'pino';

/** A real pino logger whose messages (the `msg` of each line) a test can read back. */
export function capturingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void messages.push((JSON.parse(line) as { msg: string }).msg) });
  return { logger, messages };
}
