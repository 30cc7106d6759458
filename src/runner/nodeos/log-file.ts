import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * nodeos's stdout and stderr, kept three ways: a size-rotated file in the
 * data directory (`nodeos.log`, `nodeos.log.1`, ...) for operators, the last
 * lines in memory for failure records, and line callbacks for the hash lines.
 * Writes are synchronous and small, so a crash of replay-node right after a
 * line was logged still leaves it on disk.
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
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  onLine(listener: (line: string) => void): void {
    this.listeners.push(listener);
  }

  write(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    this.append(text);
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.line(line);
  }

  /** A line of our own (start, stop, kill) interleaved with nodeos's, marked as such. */
  note(message: string): void {
    this.write(`[replay-node] ${message}\n`);
  }

  lastLines(): string[] {
    return this.partial ? [...this.tail, this.partial].slice(-this.tailLines) : [...this.tail];
  }

  close(): void {
    if (this.partial) this.line(this.partial);
    this.partial = '';
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private line(raw: string): void {
    const line = raw.replace(/\r$/, '');
    this.tail.push(line);
    if (this.tail.length > this.tailLines) this.tail.shift();
    for (const listener of this.listeners) listener(line);
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
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }
}
