import { chmodSync, closeSync, fchmodSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { redactSecrets } from '../../util/redact.js';

/** A line longer than this without a newline is kept anyway (redacted as it stands), so memory stays bounded. */
const MAX_PARTIAL = 64 * 1024;

/**
 * nodeos's stdout and stderr, kept three ways: a size-rotated file in the
 * data directory (`nodeos.log`, `nodeos.log.1`, ...) for operators, the last
 * lines in memory for failure records, and line callbacks for the hash lines.
 * Writes are synchronous and small, so a crash of replay-node right after a
 * line was logged still leaves it on disk.
 *
 * A log may hold secrets (a nodeos, or a wrapper script, that prints its
 * environment or a config line): the file and the tail get each line
 * redacted (src/util/redact.ts; whole lines, so a secret split across two
 * chunks is still seen), the file is 0600 and its directory 0700.
 * Listeners get the raw line: they parse it in this process and never
 * write it anywhere.
 */
export class NodeosLog {
  private fd: number | undefined;
  private size = 0;
  private partial = '';
  private readonly tail: string[] = [];
  private readonly listeners: ((line: string) => void)[] = [];

  constructor(
    readonly path: string,
    private readonly maxBytes: number,
    private readonly files: number,
    private readonly tailLines = 200,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // The directory usually exists already (the runner made data/ and config/ in it); mkdir's mode is only for new ones.
    chmodSync(dirname(path), 0o700);
    this.fd = this.open();
    this.size = fstatSync(this.fd).size;
  }

  onLine(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }

  write(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line, '\n');
    if (this.partial.length > MAX_PARTIAL) {
      this.line(this.partial, '');
      this.partial = '';
    }
  }

  /** A line of our own (start, stop, kill) interleaved with nodeos's, marked as such. */
  note(message: string): void {
    this.write(`[replay-node] ${message}\n`);
  }

  /** The last lines, redacted (they go into failure records, which every bucket reader sees). */
  lastLines(): string[] {
    return this.partial ? [...this.tail, redactSecrets(this.partial)].slice(-this.tailLines) : [...this.tail];
  }

  close(): void {
    if (this.partial) this.line(this.partial, '');
    this.partial = '';
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private line(raw: string, end: string): void {
    const redacted = redactSecrets(raw);
    this.append(redacted + end);
    this.tail.push(redacted.replace(/\r$/, ''));
    if (this.tail.length > this.tailLines) this.tail.shift();
    const line = raw.replace(/\r$/, '');
    for (const listener of this.listeners) listener(line);
  }

  private open(): number {
    const fd = openSync(this.path, 'a', 0o600);
    // The mode of open() applies to a new file only; one left by an older version may be 0644.
    fchmodSync(fd, 0o600);
    return fd;
  }

  private append(text: string): void {
    if (this.fd === undefined) return;
    const bytes = Buffer.from(text, 'utf8');
    if (this.size > 0 && this.size + bytes.length > this.maxBytes) this.rotate();
    writeSync(this.fd, bytes);
    this.size += bytes.length;
  }

  private rotate(): void {
    closeSync(this.fd!);
    rmSync(`${this.path}.${this.files - 1}`, { force: true });
    for (let i = this.files - 2; i >= 1; i--) {
      try {
        renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      } catch {
        // Not there yet: fewer rotations so far.
      }
    }
    if (this.files > 1) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.fd = this.open();
    this.size = 0;
  }
}
