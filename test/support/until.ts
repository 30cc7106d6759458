/**
 * Polls `read` until `test` passes (for conditions that have no event, such
 * as a counter in another process); fails with the last value seen.
 */
export async function until<T>(read: () => T | Promise<T>, test: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (test(value)) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
