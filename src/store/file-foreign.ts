import type { BigIntStats } from 'node:fs';
import { Readable } from 'node:stream';
import { contentEtag } from './content-etag.js';
import type { ForeignKind } from './file-entry.js';

/**
 * Foreign entries of the file store (file-entry.ts): what was not written
 * by the store but sits where it keeps objects. Design §7 says bad data in
 * the bucket is reported and skipped, never fatal; a foreign entry is the
 * file store's own kind of bad data, so it is handled like a corrupt object:
 *
 * - reads (get, head, getStream) and listings answer an object with no
 *   content, whose ETag stands for the entry's identity. Every reader
 *   already treats an object that does not decode as corrupt (a lease is
 *   taken over once its ETag is older than the TTL, a result is kept, never
 *   overwritten, and shown as corrupt), so nothing new is needed upstream.
 *   Listings show it as reads do: a listing and a get must not disagree
 *   about what exists (a result missing from listings but present to a
 *   create would be claimed, refused, claimed again...);
 * - a compare-and-swap on that ETag replaces it (rename replaces the entry
 *   itself, never what a link points to), overwrite replaces it, delete
 *   removes it, create-if-absent finds it there (AlreadyExists);
 * - each is reported once per entry, one line naming the path and the fix.
 */
export interface ForeignReport {
  key: string;
  path: string;
  what: ForeignKind | 'directory' | 'linked directory';
  message: string;
}

export type ForeignReporter = (report: ForeignReport) => void;

/** Without a reporter from the caller: one plain line on stderr (the CLIs' channel for warnings). */
export const stderrReporter: ForeignReporter = (report) => void process.stderr.write(`file store: ${report.message}\n`);

/** Entries remembered as reported; past this many the memory starts over (a line may repeat, nothing grows). */
const MAX_REMEMBERED = 10_000;

export class ForeignEntries {
  private readonly reported = new Set<string>();

  constructor(private readonly report: ForeignReporter) {}

  /** A foreign entry at a key: reads and listings see an empty object. */
  found(key: string, path: string, what: ForeignKind, stats: BigIntStats): void {
    this.once(`${path}\0${stats.ino}`, {
      key, path, what,
      message: `${path} is a ${what}, not a file the store wrote: it reads as an empty (corrupt) object; remove it (rm ${quote(path)})`,
    });
  }

  /** A symbolic link to a directory, met in a listing: the store follows no links below its root. */
  linkedDirectory(key: string, path: string): void {
    this.once(`${path}\0link`, {
      key, path, what: 'linked directory',
      message: `${path} is a symbolic link to a directory; the file store follows no links below its root (nothing may land outside it), so keys under it are not listed; replace it with the directory itself`,
    });
  }

  /** An empty directory where an object is being written: it holds nothing, so it is removed. */
  removedEmptyDirectory(key: string, path: string): void {
    this.report({
      key, path, what: 'directory',
      message: `removed the empty directory ${path}, which stood where the object ${key} is written (nothing was in it)`,
    });
  }

  private once(id: string, report: ForeignReport): void {
    if (this.reported.has(id)) return;
    if (this.reported.size >= MAX_REMEMBERED) this.reported.clear();
    this.reported.add(id);
    this.report(report);
  }
}

/**
 * A foreign entry has no content of ours to hash: its ETag hashes its
 * identity instead (device, inode, type, mtime), so it stays the same while
 * the entry does (a lease judge can age it) and changes when it is replaced.
 */
export function foreignEtag(stats: BigIntStats): string {
  return contentEtag(Buffer.from(`replay/foreign-entry:${stats.dev}:${stats.ino}:${stats.mode}:${stats.mtimeNs}`));
}

export function emptyBody(): Readable {
  return Readable.from([]);
}

/** Single-quoted for a POSIX shell, so the fix can be pasted as it is. */
export function quote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}
