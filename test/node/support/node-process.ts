import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The real CLI, as users run it (built by `npm run build`, which `npm test` runs first). */
export const nodeCli = fileURLToPath(new URL('../../../bin/replay-node.js', import.meta.url));

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * A `replay-node join` process seen from a test: its pino lines (stderr) are
 * parsed and kept, and `waitForLog` resolves on the first line, past or
 * future, that matches, so tests await events instead of sleeping.
 */
export class NodeProcess {
  readonly logs: LogLine[] = [];
  /** Non-JSON stderr (the final one-line summary, errors). */
  readonly text: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<{ test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();

  constructor(readonly node: string, args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [nodeCli, 'join', '--node', node, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'debug', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    });
    createInterface({ input: this.child.stderr! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        this.text.push(text);
        return;
      }
      this.logs.push(line);
      for (const waiter of this.waiters) {
        if (waiter.test(line)) {
          this.waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  waitForLog(test: (line: LogLine) => boolean, what: string, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { test, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`${this.node}: timed out waiting for ${what}; last lines:\n${this.tail()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      void this.exited.then(() => {
        if (!this.waiters.has(waiter)) return;
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(new Error(`${this.node}: exited while waiting for ${what}; last lines:\n${this.tail()}`));
      });
    });
  }

  /** The first `claimed <item>` log line. */
  claimed(): Promise<LogLine> {
    return this.waitForLog((l) => l.msg.startsWith('claimed '), 'a claim');
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  tail(lines = 15): string {
    return [...this.logs.slice(-lines).map((l) => JSON.stringify(l).slice(0, 300)), ...this.text.slice(-5)].join('\n');
  }
}
