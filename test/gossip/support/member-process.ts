import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { GossipCounters, ReceivedMessage } from '../../../src/gossip/gossip.js';
import type { DriverCommand, DriverConfig } from './member-driver.js';
import { wallTimer } from '../../support/wall-clock.js';

const driver = fileURLToPath(new URL('./member-driver.ts', import.meta.url));

export type DriverLine =
  | { ev: 'ready'; peerId: string; addrs: string[] }
  | ({ ev: 'message'; at: number } & ReceivedMessage)
  | { ev: 'counters'; counters: GossipCounters }
  | { ev: 'usage'; rssBytes: number; cpuMicros: number; atMs: number }
  | { ev: 'stopped'; counters: GossipCounters };

/**
 * A member-driver process seen from a test: every stdout line is kept, and
 * `waitFor` resolves on the first line (past or future) that matches, so a
 * test awaits events instead of sleeping.
 */
export class MemberProcess {
  readonly lines: DriverLine[] = [];
  stderr = '';
  private readonly stderrWaiters = new Set<{ pattern: RegExp; resolve: () => void }>();
  private readonly waiters = new Set<{ test: (line: DriverLine) => boolean; resolve: (line: DriverLine) => void }>();
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  peerId = '';

  /** `compiledDriver`: a JavaScript build of member-driver.ts (the bench uses one so tsx is not in the numbers). */
  constructor(readonly config: DriverConfig, env: Record<string, string> = {}, compiledDriver?: string) {
    const args = compiledDriver ? [compiledDriver] : ['--import', 'tsx', driver];
    this.child = spawn(process.execPath, [...args, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
      for (const waiter of this.stderrWaiters) {
        if (waiter.pattern.test(this.stderr)) {
          this.stderrWaiters.delete(waiter);
          waiter.resolve();
        }
      }
    });
    createInterface({ input: this.child.stdout! }).on('line', (text) => {
      const line = JSON.parse(text) as DriverLine;
      if (line.ev === 'ready') this.peerId = line.peerId;
      this.lines.push(line);
      for (const waiter of this.waiters) {
        if (waiter.test(line)) {
          this.waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get node(): string {
    return this.config.node;
  }

  waitFor<T extends DriverLine>(test: (line: DriverLine) => line is T, what: string, timeoutMs?: number): Promise<T>;
  waitFor(test: (line: DriverLine) => boolean, what: string, timeoutMs?: number): Promise<DriverLine>;
  waitFor(test: (line: DriverLine) => boolean, what: string, timeoutMs = 20_000): Promise<DriverLine> {
    const seen = this.lines.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = wallTimer(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.node}: no ${what} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      const waiter = {
        test,
        resolve: (line: DriverLine) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.add(waiter);
      void this.exited.then((code) => {
        if (!this.waiters.has(waiter)) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${this.node} exited (${code}) before ${what}; stderr: ${this.stderr.slice(-2000)}`));
      });
    });
  }

  /** Resolves once the process's log (stderr) matches `pattern`. */
  logged(pattern: RegExp): Promise<void> {
    if (pattern.test(this.stderr)) return Promise.resolve();
    return new Promise((resolve) => this.stderrWaiters.add({ pattern, resolve }));
  }

  ready(): Promise<DriverLine> {
    return this.waitFor((line) => line.ev === 'ready', 'ready');
  }

  messages(): Array<Extract<DriverLine, { ev: 'message' }>> {
    return this.lines.filter((line): line is Extract<DriverLine, { ev: 'message' }> => line.ev === 'message');
  }

  /** Resolves when a message from `node` matching `test` has arrived. */
  heard(node: string, test: (line: Extract<DriverLine, { ev: 'message' }>) => boolean = () => true, timeoutMs?: number) {
    return this.waitFor(
      (line): line is Extract<DriverLine, { ev: 'message' }> => line.ev === 'message' && line.message.node === node && test(line),
      `a message from ${node}`,
      timeoutMs,
    );
  }

  send(command: DriverCommand): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  async counters(): Promise<GossipCounters> {
    const before = this.lines.length;
    this.send({ cmd: 'counters' });
    const line = await this.waitFor((l) => l.ev === 'counters' && this.lines.indexOf(l) >= before, 'counters');
    return (line as Extract<DriverLine, { ev: 'counters' }>).counters;
  }

  async usage(): Promise<Extract<DriverLine, { ev: 'usage' }>> {
    const before = this.lines.length;
    this.send({ cmd: 'usage' });
    return this.waitFor((l): l is Extract<DriverLine, { ev: 'usage' }> => l.ev === 'usage' && this.lines.indexOf(l) >= before, 'usage');
  }

  /** Graceful stop (publishes `leaving`); kills after 5 s if it hangs. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.send({ cmd: 'stop' });
    const timer = wallTimer(() => this.child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
