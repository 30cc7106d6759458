/**
 * The integrity-hash log lines of `--integrity-hash-on-start` and
 * `--integrity-hash-on-stop`. The start hash identifies the loaded snapshot
 * (and must equal the previous interval's end hash); the stop hash is the
 * end state's, when nodeos got to log it.
 */
const STARTED = /chain database started with hash: ([0-9a-fA-F]{16,})/;
const STOPPED = /chain database stopped with hash: ([0-9a-fA-F]{16,})/;

export class HashLines {
  startHash: string | undefined;
  stopHash: string | undefined;

  /** Feed every log line; the last occurrence wins (a restart logs again). */
  read(line: string): void {
    const started = STARTED.exec(line);
    if (started) this.startHash = started[1]!.toLowerCase();
    const stopped = STOPPED.exec(line);
    if (stopped) this.stopHash = stopped[1]!.toLowerCase();
  }
}

/** nodeos refusing its snapshot at start-up: a bad input, not a crash of the software under test. */
const SNAPSHOT_REFUSED = /unable to (read|load|open) snapshot|snapshot.*(corrupt|invalid|unexpected|bad)|(corrupt|invalid).*snapshot/i;

export function snapshotRefused(logLines: string[]): boolean {
  return logLines.some((line) => SNAPSHOT_REFUSED.test(line) && !line.startsWith('[replay-node]'));
}
