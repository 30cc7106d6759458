import type { Logger } from '../util/logger.js';

/** First SIGTERM/SIGINT: graceful stop. Second: exit at once. Returns a function that removes the handlers. */
export function onStopSignals(stop: (signal: string) => Promise<void>, logger: Logger): () => void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    signalled = true;
    logger.info({ signal }, 'stopping gracefully (send again to force)');
    void stop(signal);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
