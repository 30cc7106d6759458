import { execa, type ResultPromise } from 'execa';
import type { Clock } from '../../time/clock.js';
import type { NodeosLog } from './log-file.js';
import { nodeosEnvironment } from './nodeos-env.js';

/**
 * One nodeos process, driven with execa. Stopping is SIGINT (nodeos shuts
 * down cleanly), then SIGKILL after a grace period. No nodeos outlives its
 * replay-node: on a normal exit or a handled signal of replay-node, an exit
 * hook SIGKILLs what is still running (execa's cleanup sends SIGTERM too);
 * when replay-node itself is SIGKILLed, `setpriv --pdeathsig KILL` has the
 * kernel kill nodeos (a leftover one is stopped by the next runner on the
 * data directory: leftover.ts).
 */
export interface NodeosExit {
  exitCode: number | null;
  signal: string | null;
  /** Set when the binary could not be started at all. */
  spawnError?: string;
}

export interface StartNodeos {
  bin: string;
  args: string[];
  /** Added to nodeos's minimal environment (nodeos-env.ts); replay-node's own is never passed on. */
  env: Record<string, string>;
  log: NodeosLog;
  clock: Clock;
  /** Wrap in `setpriv --pdeathsig KILL` (the runner requires it: preflight.checkSetpriv). */
  parentDeathSignal: boolean;
}

const live = new Set<NodeosProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.killNow();
  });
}

export class NodeosProcess {
  readonly exited: Promise<NodeosExit>;
  private readonly child: ResultPromise;
  private stopping: Promise<NodeosExit> | undefined;
  private done = false;

  constructor(private readonly request: StartNodeos) {
    installExitHook();
    const [file, args] = request.parentDeathSignal
      ? ['setpriv', ['--pdeathsig', 'KILL', '--', request.bin, ...request.args]]
      : [request.bin, request.args];
    request.log.note(`starting ${request.bin} ${request.args.join(' ')}`);
    this.child = execa(file, args, {
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      forceKillAfterDelay: false,
      // Not replay-node's environment: it holds the store's credentials (nodeos-env.ts).
      extendEnv: false,
      env: nodeosEnvironment(request.env),
    });
    this.child.stdout?.on('data', (chunk: Buffer) => request.log.write(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => request.log.write(chunk));
    live.add(this);
    this.exited = this.child.then((result) => {
      this.done = true;
      live.delete(this);
      const exit: NodeosExit = { exitCode: result.exitCode ?? null, signal: result.signal ?? null };
      if (result.failed && result.exitCode === undefined && !result.signal) exit.spawnError = result.shortMessage;
      request.log.note(`nodeos exited: ${describeExit(exit)}`);
      return exit;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return !this.done;
  }

  /** SIGINT, then SIGKILL if still running after `graceMs`. Idempotent. */
  stop(graceMs: number, why: string): Promise<NodeosExit> {
    this.stopping ??= this.stopOnce(graceMs, why);
    return this.stopping;
  }

  /** SIGKILL at once (synchronous: used from the process exit hook). */
  killNow(): void {
    if (!this.done) this.child.kill('SIGKILL');
  }

  private async stopOnce(graceMs: number, why: string): Promise<NodeosExit> {
    if (this.done) return this.exited;
    this.request.log.note(`stopping nodeos (${why}): SIGINT, SIGKILL after ${graceMs} ms`);
    this.child.kill('SIGINT');
    const timer = new AbortController();
    const graceOver = this.request.clock.sleep(graceMs, timer.signal).then(() => true, () => false);
    const first = await Promise.race([this.exited.then(() => false), graceOver]);
    timer.abort();
    if (first && !this.done) {
      this.request.log.note('nodeos did not stop within the grace period: SIGKILL');
      this.child.kill('SIGKILL');
    }
    return this.exited;
  }
}

export function describeExit(exit: NodeosExit): string {
  if (exit.spawnError) return `could not start (${exit.spawnError})`;
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.exitCode}`;
}
