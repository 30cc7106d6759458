/**
 * Who may talk on a run's gossip: the peers named by live node records in
 * the store. The caller (the node, the observer, a test driver) reads the
 * records and passes them in; gossip never reads the store itself.
 */
export interface MemberRecord {
  /** The node id (the record's name under `runs/<run>/nodes/`). */
  node: string;
  peerId: string;
  /** Multiaddrs to dial, with or without a `/p2p/<peerId>` suffix. */
  addrs: string[];
  /** The caller's judgement that the record's heartbeat is too old (or the node stopped): ignored. */
  stale?: boolean;
}

export interface MemberChange {
  added: string[];
  removed: string[];
  /** Peer ids claimed by more than one live record; only the first node (by id) keeps it. */
  duplicates: string[];
}

export class Membership {
  private members = new Map<string, { node: string; addrs: string[] }>();

  constructor(readonly selfPeerId: string) {}

  /** Replaces the member set with the live records given; says what changed. */
  update(records: readonly MemberRecord[]): MemberChange {
    const next = new Map<string, { node: string; addrs: string[] }>();
    const duplicates: string[] = [];
    const live = records.filter((r) => !r.stale).sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    for (const record of live) {
      const existing = next.get(record.peerId);
      if (existing) {
        if (existing.node !== record.node) duplicates.push(record.peerId);
        continue;
      }
      next.set(record.peerId, { node: record.node, addrs: [...record.addrs] });
    }
    const added = [...next.keys()].filter((p) => !this.members.has(p));
    const removed = [...this.members.keys()].filter((p) => !next.has(p));
    this.members = next;
    return { added, removed, duplicates };
  }

  has(peerId: string): boolean {
    return this.members.has(peerId);
  }

  /** The node id a member peer speaks for. */
  nodeOf(peerId: string): string | undefined {
    return this.members.get(peerId)?.node;
  }

  addrsOf(peerId: string): string[] {
    return this.members.get(peerId)?.addrs ?? [];
  }

  /** Member peer ids other than this node's own. */
  others(): string[] {
    return [...this.members.keys()].filter((p) => p !== this.selfPeerId);
  }

  get size(): number {
    return this.members.size;
  }
}
