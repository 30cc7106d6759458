import type { RPC } from '@chainsafe/libp2p-gossipsub/message';

/** Why the gate dropped a message (a subset of DropReason). */
export type GateDrop = 'throttled' | 'oversized' | 'unsigned';

export interface InboundGateDeps {
  /** Per-peer token bucket, keyed here by the peer that delivered the message. */
  limiter: { take(peer: string): boolean };
  maxMessageBytes: number;
  /** Every message offered, before any check (the `received` counter). */
  onOffered(): void;
  onDrop(reason: GateDrop, peer: string): void;
}

/**
 * The first look at incoming gossip, before gossipsub verifies a signature
 * or we decode a byte (issue 19). A signature check is the dearest step of
 * receiving (about 0.2 ms); a member that floods thousands of messages would
 * otherwise make every node verify each of them in one unbroken run of
 * microtasks, starving the timers that renew its leases. So messages are
 * counted against the *delivering* peer's budget first (the peer the noise
 * handshake authenticated, which no sender can forge; the author named in a
 * message is not verified yet and must not be what a budget is keyed by, or
 * a forger could spend an honest author's budget), then dropped when larger
 * than any valid message or unsigned. What passes costs what it did before.
 */
export class InboundGate {
  constructor(private readonly deps: InboundGateDeps) {}

  /** The messages of one RPC from `peer` that may go on to gossipsub's validation. */
  admit(peer: string, messages: RPC.Message[]): RPC.Message[] {
    const kept: RPC.Message[] = [];
    for (const message of messages) {
      this.deps.onOffered();
      const reason = this.check(peer, message);
      if (reason === undefined) kept.push(message);
      else this.deps.onDrop(reason, peer);
    }
    return kept;
  }

  private check(peer: string, message: RPC.Message): GateDrop | undefined {
    if (!this.deps.limiter.take(peer)) return 'throttled';
    if ((message.data?.byteLength ?? 0) > this.deps.maxMessageBytes) return 'oversized';
    // StrictSign would reject these too, but only after building a message from them; count them here.
    if (!message.from || !message.signature || !message.seqno) return 'unsigned';
    return undefined;
  }
}
