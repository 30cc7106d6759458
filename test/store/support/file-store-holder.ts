/**
 * A file-store writer that stops half-way so a test can kill it with
 * SIGKILL at a known point (run with `node --import tsx`):
 *
 *   hold-lock <root> <key>     overwrites <key>, prints `locked` while holding the key's lock, then hangs
 *   stall-stream <root> <key>  streams into <key>, prints `streaming` after the first chunk, then hangs
 */
import { PassThrough } from 'node:stream';
import { createFileStore } from '../../../src/store/file.js';
import { overwrite } from '../../../src/store/store.js';
import { systemClock } from '../../../src/time/system-clock.js';
import { wallInterval } from '../../support/wall-clock.js';

const [mode, root = '', key = ''] = process.argv.slice(2);
// A pending promise alone would let the process exit: keep it alive until killed.
wallInterval(() => {}, 1 << 30);
const forever = new Promise<never>(() => {});

if (mode === 'hold-lock') {
  const store = createFileStore(root, {
    clock: systemClock,
    onLockHeld: async () => {
      process.stdout.write('locked\n');
      await forever;
    },
  });
  await store.put(key, 'from the killed holder', overwrite);
} else if (mode === 'stall-stream') {
  const store = createFileStore(root, { clock: systemClock });
  const body = new PassThrough();
  body.write(Buffer.alloc(64 * 1024, 1));
  const put = store.putStream(key, body, overwrite);
  // The store has taken the first chunk (its temp file exists) once the stream is empty.
  await new Promise<void>((resolve) => {
    const check = (): void => (body.readableLength === 0 ? resolve() : void setImmediate(check));
    check();
  });
  process.stdout.write('streaming\n');
  await put;
} else {
  throw new Error(`unknown mode ${mode}`);
}
