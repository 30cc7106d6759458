/**
 * A separate process that contends for the store under test (run with
 * `node --import tsx test/conformance/store-worker.ts <task> ...`).
 *
 *   create-race <key> <writer>
 *   cas-increments <key> <writer> <count>
 *   big-round-trip <key> <bytes> <seed>
 *
 * The store comes from STORE_WORKER_SPEC (JSON, see worker-store.ts). The
 * worker opens the store, prints `{"ready":true}`, waits for a line on stdin
 * (the start signal, so all workers contend at once rather than as they
 * finish starting), runs the task and prints its result as one JSON line.
 */
import { createInterface } from 'node:readline';
import { bigRoundTrip, casIncrements, raceCreate } from './store-tasks.js';
import { openStoreForWorker, type WorkerStoreSpec } from './worker-store.js';

async function main(): Promise<void> {
  const [task, ...args] = process.argv.slice(2);
  const specJson = process.env.STORE_WORKER_SPEC;
  if (!specJson) throw new Error('STORE_WORKER_SPEC is not set');
  const store = await openStoreForWorker(JSON.parse(specJson) as WorkerStoreSpec);
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  await startSignal();
  const result = await run(task, args, store);
  await store.close();
  process.stdout.write(`${JSON.stringify({ result })}\n`);
}

function run(task: string | undefined, args: string[], store: Awaited<ReturnType<typeof openStoreForWorker>>): Promise<unknown> {
  const [a = '', b = '', c = ''] = args;
  switch (task) {
    case 'create-race':
      return raceCreate(store, a, b);
    case 'cas-increments':
      return casIncrements(store, a, b, Number(c));
    case 'big-round-trip':
      return bigRoundTrip(store, a, Number(b), c);
    default:
      throw new Error(`unknown task ${JSON.stringify(task)}`);
  }
}

function startSignal(): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: process.stdin });
    lines.once('line', () => {
      resolve();
      lines.close();
    });
    lines.once('close', () => reject(new Error('stdin closed before the start signal')));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
