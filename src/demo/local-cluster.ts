import '../util/promise-shim.js'; // first: libp2p needs Promise.withResolvers, which Node 20 lacks
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { publishManifest } from '../manifest/publish.js';
import { manifestItems } from '../manifest/items.js';
import { computeRunStatus, RunReader, type RunStatus } from '../status/index.js';
import { createFileStore } from '../store/file.js';
import { systemClock } from '../time/system-clock.js';
import { scaledEnfManifest } from './scaled-run.js';
import { messageOf } from '../util/message-of.js';

/**
 * `npm start`: the product's main job on one machine. A file store under
 * ./.replay/, a run scaled down from the real EOS mainnet spacing table,
 * three `replay-node join` processes on the simulated chain (gossiping on
 * 127.0.0.1), the observer when it is built, and a progress line every two
 * seconds. One injected crash shows a failed attempt retried by another
 * node. Ctrl-C stops everything gracefully (nodes release their leases).
 */
const NODES = ['demo-a', 'demo-b', 'demo-c'];
// Knobs for a quicker demo (the tests use them): block-number divisor, sim speed, observer port.
const SCALE = Number(process.env.REPLAY_DEMO_SCALE ?? 1_000);
const SIM_SPEED = Number(process.env.REPLAY_DEMO_SPEED ?? 4_000);
const OBSERVER_PORT = Number(process.env.REPLAY_DEMO_PORT ?? 7070);
const bin = (name: string): string => fileURLToPath(new URL(`../../bin/${name}.js`, import.meta.url));

async function main(): Promise<void> {
  const root = resolve('.replay');
  const storeDir = join(root, 'store');
  const logDir = join(root, 'logs');
  await mkdir(logDir, { recursive: true });
  const storeUrl = pathToFileURL(storeDir).href;
  const store = createFileStore(storeDir, { clock: systemClock });
  const run = `demo-${new Date(systemClock.now()).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  const manifest = scaledEnfManifest(run, new Date(systemClock.now()).toISOString(), { scale: SCALE, leaseTtlMs: 10_000 });
  await publishManifest(store, manifest);
  const items = manifestItems(manifest);
  const crashItem = items[Math.floor(items.length / 3)]!.id;
  say(`published run ${run}: ${items.length} intervals, blocks 0-${items[items.length - 1]!.end} (the EOS mainnet table / ${SCALE}), in ${storeDir}`);

  const children: ChildProcess[] = [];
  const faults = JSON.stringify({ crashAt: { item: crashItem, attempt: 1 } });
  for (const node of NODES) {
    children.push(start(node, bin('replay-node'), [
      'join', '--store', storeUrl, '--run', run, '--node', node, '--runner', 'sim', '--sim-speed', String(SIM_SPEED), '--sim-step-ms', '50',
      '--exit-when-done', '--listen', '/ip4/127.0.0.1/tcp/0', '--data-dir', join(root, 'nodes', node), '--sim-faults', faults,
    ], join(logDir, `${node}.log`)));
  }
  say(`started ${NODES.join(', ')} (logs in ${logDir}); an injected crash on ${crashItem} will be retried by another node`);
  const observer = existsSync(fileURLToPath(new URL('../cli/observer-serve.js', import.meta.url)))
    ? start('observer', bin('replay-observer'), ['serve', '--store', storeUrl, '--run', run, '--port', String(OBSERVER_PORT)], join(logDir, 'observer.log'))
    : undefined;
  if (observer) say(`observer: http://127.0.0.1:${OBSERVER_PORT}/ (live status in the browser)`);

  // The children run in process groups of their own, so a terminal's Ctrl-C reaches only us and each
  // child gets exactly one SIGINT from here (graceful); a second Ctrl-C sends a second one (forced).
  let interrupted = false;
  const stopAll = (): void => {
    if (!interrupted) say('stopping: the nodes release their leases and exit (Ctrl-C again to force)');
    interrupted = true;
    for (const child of [...children, ...(observer ? [observer] : [])]) if (child.exitCode === null) child.kill('SIGINT');
  };
  process.on('SIGINT', stopAll);
  process.on('SIGTERM', stopAll);

  const reader = new RunReader({ store, clock: systemClock, run });
  const began = systemClock.monotonic();
  let status: RunStatus | undefined;
  const exits = Promise.all(children.map((c) => new Promise<number | null>((r) => c.on('exit', (code) => r(code)))));
  let finished = false;
  void exits.then(() => (finished = true));
  while (!finished) {
    await Promise.race([exits, systemClock.sleep(2_000)]);
    status = computeRunStatus(await reader.refresh(), { now: { monotonic: systemClock.monotonic(), wall: systemClock.now() } });
    say(progressLine(status, (systemClock.monotonic() - began) / 1000));
  }
  const codes = await exits;
  status = computeRunStatus(await reader.refresh(), { now: { monotonic: systemClock.monotonic(), wall: systemClock.now() } });
  say(summary(status, codes, (systemClock.monotonic() - began) / 1000, storeUrl, storeDir));
  if (observer && !interrupted) {
    say(`the observer keeps running at http://127.0.0.1:${OBSERVER_PORT}/; Ctrl-C stops it`);
    await new Promise((r) => observer.on('exit', r));
  }
  await store.close();
}

function start(name: string, script: string, args: string[], logFile: string): ChildProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, [script, ...args], {
    detached: true, // its own process group: see stopAll
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  // Should this process die without stopping them, the children must not outlive it by more than their own run.
  process.on('exit', () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) say(`${name} exited with code ${code}; see ${logFile}`);
  });
  return child;
}

function progressLine(s: RunStatus, seconds: number): string {
  const working = s.nodes.filter((n) => n.state === 'working').length;
  const failures = s.recentFailures.length;
  return `[${seconds.toFixed(0).padStart(4)} s] ${s.items.done}/${s.items.total} intervals done (${s.progress.percentBlocks.toFixed(1)} % of blocks), ` +
    `${working} of ${s.nodes.length} nodes working${failures ? `, ${failures} failed attempt(s) retried` : ''}${s.items.conflict ? `, ${s.items.conflict} conflicts` : ''}`;
}

function summary(s: RunStatus, codes: Array<number | null>, seconds: number, storeUrl: string, storeDir: string): string {
  const complete = s.items.done + s.items.conflict === s.items.total;
  return [
    complete ? `run ${s.run} complete in ${seconds.toFixed(0)} s: ${s.items.done} results, ${s.continuity.breaks.length} chain-continuity breaks, ${s.items.conflict} conflicts, ${s.items.failed} failed`
      : `run ${s.run} stopped after ${seconds.toFixed(0)} s: ${s.items.done}/${s.items.total} done (node exit codes ${codes.map((c) => c ?? 'signal').join(', ')})`,
    `look at it:  node ${bin('replay-node')} status --store ${storeUrl} --run ${s.run}`,
    `or the bucket itself:  ls ${join(storeDir, 'runs', s.run)}  (results/, leases/, failures/, nodes/)`,
  ].join('\n');
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start: ${messageOf(error)}\n`);
  process.exitCode = 1;
});
