import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { wallMonotonic, wallTimer } from '../../support/wall-clock.js';

/** The real CLI, as users run it (built by `npm run build`, which `npm test` runs first). */
export const nodeCli = fileURLToPath(new URL('../../../bin/replay-node.js', import.meta.url));

/**
 * Data directories of this test file's nodes (`<dir>/<node>`): a node keeps
 * its gossip key across restarts, and two files that both run a node `n1`
 * do not share one directory, which its lock would refuse (issue 19).
 */
const dataDirs = mkdtempSync(join(tmpdir(), 'replay-test-nodes-'));
process.once('exit', () => rmSync(dataDirs, { recursive: true, force: true }));

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/**
 * A `replay-node join` process seen from a test: its pino lines (stderr) are
 * parsed and kept, and `waitForLog` resolves on the first line, past or
 * future, that matches, so tests await events instead of sleeping.
 *
 * For history checkers (test/support/history.ts): `arrivals[i]` is the
 * harness's performance.now() when `logs[i]` arrived, `exitedAt` the same
 * clock at exit, and `onLine` sees every later line as it arrives. The
 * process gets `AWS_SDK_UA_APP_ID=<node>` (unless `env` says otherwise), so
 * its S3 requests carry `app/<node>` in their user agent, which is how the
 * fault proxy (test/support/fault-proxy.ts) tells nodes apart.
 */
export class NodeProcess {
  readonly logs: LogLine[] = [];
  /** performance.now() at the arrival of each line of `logs` (same index). */
  readonly arrivals: number[] = [];
  /** performance.now() when the process exited; undefined while it runs. */
  exitedAt: number | undefined;
  /** Non-JSON stderr (the final one-line summary, errors). */
  readonly text: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly waiters = new Set<{ test: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  private readonly lineListeners = new Set<(line: LogLine, at: number) => void>();

  constructor(readonly node: string, args: string[], env: Record<string, string> = {}) {
    const dataDir = args.includes('--data-dir') ? [] : ['--data-dir', join(dataDirs, node)];
    this.child = spawn(process.execPath, [nodeCli, 'join', '--node', node, ...dataDir, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        ...process.env,
        LOG_LEVEL: 'debug',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // The SDK takes at most 50 characters (and warns on stderr past that).
        ...(node.length <= 50 ? { AWS_SDK_UA_APP_ID: node } : {}),
        ...env,
      },
    });
    createInterface({ input: this.child.stderr! }).on('line', (text) => {
      const at = wallMonotonic();
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        this.text.push(text);
        return;
      }
      this.logs.push(line);
      this.arrivals.push(at);
      for (const listener of this.lineListeners) listener(line, at);
      for (const waiter of this.waiters) {
        if (waiter.test(line)) {
          this.waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      this.exitedAt = wallMonotonic();
      resolve({ code, signal });
    }));
  }

  /** Calls `listener` with every JSON line from now on, and its arrival time; returns the unsubscribe. */
  onLine(listener: (line: LogLine, at: number) => void): () => void {
    this.lineListeners.add(listener);
    return () => this.lineListeners.delete(listener);
  }

  get pid(): number {
    return this.child.pid!;
  }

  waitForLog(test: (line: LogLine) => boolean, what: string, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { test, resolve: (line: LogLine) => (clearTimeout(timer), resolve(line)) };
      const timer = wallTimer(() => {
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
