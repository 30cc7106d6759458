/**
 * What the runner learns from nodeos's own log lines (docs/runners.md, "What
 * the runner reads from the log"). nodeos's HTTP API closes before it
 * computes the stop hash (appbase shuts plugins down before destroying the
 * controller), so the end of a replay, the end hash and usually the end
 * block's id are only ever seen here. Each pattern is the real message, with
 * the spring source that prints it.
 */

/** `chain database started|stopped with hash: H` (controller.cpp, `--integrity-hash-on-start|stop`). */
const STARTED = /chain database started with hash: ([0-9a-fA-F]{16,})/;
const STOPPED = /chain database stopped with hash: ([0-9a-fA-F]{16,})/;
/** controller.cpp should_terminate(): printed as soon as the head reaches `--terminate-at-block`. */
const END_REACHED = /Block (\d+) reached configured maximum block (\d+); terminating/;
/** controller.cpp log_applied(): while syncing old blocks, every 1000th block; the id is `id.substr(8, 16)`. */
const RECEIVED = /Received block ([0-9a-fA-F]{16})\.\.\. #(\d+)/;
/** controller.cpp replay_block_log(): every 500th block replayed from a block log, before HTTP is up. */
const REPLAYED = /\] (\d+) of (\d+)\s*$/;
/** controller.cpp startup from a snapshot, and chain_plugin's start line. */
const SNAPSHOT_LOADED = /Snapshot loaded, head: (\d+) : ([0-9a-fA-F]{64})/;
const BLOCKCHAIN_STARTED = /Blockchain started; head block is #(\d+)/;
/** fork_database.cpp close_impl() on exit, and controller.cpp at start: full ids of root and head. */
const FORK_DB_WRITE = /Writing fork_database \d+ blocks with root (\d+):([0-9a-fA-F]{64}) and head (\d+):([0-9a-fA-F]{64})/;
const FORK_DB_EMPTY = /Writing empty fork_database with root (\d+):([0-9a-fA-F]{64})/;
const FORK_DB_SIZE = /fork database size \d+ head (\d+) : ([0-9a-fA-F]{64}), root (\d+) : ([0-9a-fA-F]{64})/;
const OUR_NOTE = '[replay-node]';

export class NodeosLogReader {
  startHash: string | undefined;
  stopHash: string | undefined;
  /** The block at which nodeos said it reached `--terminate-at-block`. */
  endReachedAt: number | undefined;
  /** Highest block number the log says was applied (Received / replayed / loaded lines). */
  headBlock: number | undefined;
  /** Set once the log shows the chain is up: snapshot loaded or the chain started. */
  chainUp = false;
  /** Count of nodeos lines so far (the loading and hashing watchdogs count silence). */
  lines = 0;
  private readonly ids = new Map<number, string>();
  private readonly prefixes = new Map<number, string>();

  /** Feed every log line, in order. The last occurrence of a hash wins (a restart logs again). */
  read(line: string): void {
    if (line.startsWith(OUR_NOTE)) return;
    this.lines++;
    let m: RegExpExecArray | null;
    if ((m = STARTED.exec(line))) this.startHash = m[1]!.toLowerCase();
    else if ((m = STOPPED.exec(line))) this.stopHash = m[1]!.toLowerCase();
    else if ((m = END_REACHED.exec(line))) {
      this.endReachedAt = Number(m[1]);
      this.applied(this.endReachedAt);
    } else if ((m = RECEIVED.exec(line))) {
      const block = Number(m[2]);
      this.prefixes.set(block, blockNumberHex(block) + m[1]!.toLowerCase());
      this.applied(block);
    } else if ((m = REPLAYED.exec(line))) this.applied(Number(m[1]));
    else if ((m = SNAPSHOT_LOADED.exec(line))) {
      this.knownId(Number(m[1]), m[2]!);
      this.chainUp = true;
      this.applied(Number(m[1]));
    } else if ((m = BLOCKCHAIN_STARTED.exec(line))) {
      this.chainUp = true;
      this.applied(Number(m[1]));
    } else if ((m = FORK_DB_WRITE.exec(line)) || (m = FORK_DB_SIZE.exec(line))) {
      this.knownId(Number(m[1]), m[2]!);
      this.knownId(Number(m[3]), m[4]!);
    } else if ((m = FORK_DB_EMPTY.exec(line))) this.knownId(Number(m[1]), m[2]!);
  }

  /** The full id of a block if a log line named it. */
  blockId(block: number): string | undefined {
    return this.ids.get(block);
  }

  /**
   * The first 24 hex digits of a block's id when only a `Received block`
   * line named it: nodeos prints characters 8-23, and characters 0-7 of an
   * Antelope block id are its block number.
   */
  blockIdPrefix(block: number): string | undefined {
    return this.ids.get(block)?.slice(0, 24) ?? this.prefixes.get(block);
  }

  private knownId(block: number, id: string): void {
    this.ids.set(block, id.toLowerCase());
  }

  private applied(block: number): void {
    if (this.headBlock === undefined || block > this.headBlock) this.headBlock = block;
  }
}

function blockNumberHex(block: number): string {
  return (block >>> 0).toString(16).padStart(8, '0');
}
