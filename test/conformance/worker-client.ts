import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { WorkerStoreSpec } from './worker-store.js';
import { wallTimer } from '../support/wall-clock.js';

const workerScript = fileURLToPath(new URL('./store-worker.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Runs one store-worker process per argument list, starts them all at the
 * same moment (once every one has opened the store) and returns their
 * results in order. Rejects, with the worker's stderr, if any fails; kills
 * them all if they take longer than `timeoutMs` (no worker outlives a test).
 */
export async function runWorkers<T>(spec: WorkerStoreSpec, task: string, argLists: string[][], timeoutMs = 240_000): Promise<T[]> {
  const workers = argLists.map((args) => startWorker(spec, task, args));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = wallTimer(() => reject(new Error(`store workers (${task}) still running after ${timeoutMs} ms; killed`)), timeoutMs);
  });
  try {
    return await Promise.race([
      (async () => {
        await Promise.all(workers.map((w) => w.ready));
        for (const w of workers) w.child.stdin!.end('go\n');
        return (await Promise.all(workers.map((w) => w.result))) as T[];
      })(),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  }
}

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  result: Promise<unknown>;
}

function startWorker(spec: WorkerStoreSpec, task: string, args: string[]): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', workerScript, task, ...args], {
    cwd: repoRoot,
    env: { ...process.env, STORE_WORKER_SPEC: JSON.stringify(spec) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const results: unknown[] = [];
  let markReady = (): void => {};
  const readySeen = new Promise<void>((resolve) => (markReady = resolve));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as { ready?: boolean; result?: unknown };
    if (message.ready) markReady();
    else results.push(message.result);
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const failed = (what: string, code: number | null): Error =>
    new Error(`store worker ${task} ${args.join(' ')} ${what} (exit ${code}): ${stderr.trim()}`);
  const ready = Promise.race([
    readySeen,
    exited.then((code) => {
      throw failed('exited before it was ready', code);
    }),
  ]);
  const result = exited.then((code) => {
    if (code !== 0 || results.length !== 1) throw failed('failed', code);
    return results[0];
  });
  ready.catch(() => {});
  result.catch(() => {});
  return { child, ready, result };
}
