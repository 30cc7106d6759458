import { decodeMessage } from './decode-message.js';
import type { DropReason } from './gossip.js';
import type { Membership } from './membership.js';
import { MAX_CLOCK_DISTANCE_MS, type GossipMessage } from './messages.js';

export interface IncomingMessage {
  /** The signing author's peer id; undefined for an unsigned message. */
  from: string | undefined;
  data: Uint8Array;
}

export type Screened =
  | { verdict: 'accept'; from: string; message: GossipMessage }
  /** Dropped without blaming the peer that relayed it (membership views differ for a moment between nodes). */
  | { verdict: 'ignore'; reason: DropReason; detail?: string }
  /** Dropped, and the relaying peer's gossipsub score suffers (only a broken or hostile member sends these). */
  | { verdict: 'reject'; reason: DropReason; detail?: string };

export interface ScreenContext {
  run: string;
  membership: Membership;
  /** Per-author rate limit; absent when re-reading a message that already passed. */
  limiter?: { take(peer: string): boolean };
  maxMessageBytes: number;
  /** The receiver's wall clock (ms since the epoch): a message's times must lie within MAX_CLOCK_DISTANCE_MS of it. */
  now: number;
}

/**
 * Decides what happens to one incoming message, cheapest checks first:
 * membership (the store says who may speak), the author's rate, then size,
 * shape, run, plausible times and the node name the author may use. (Before
 * this, the inbound gate has charged the delivering peer's budget and
 * gossipsub has checked the signature.)
 */
export function screenMessage(ctx: ScreenContext, topicType: GossipMessage['type'], incoming: IncomingMessage): Screened {
  const from = incoming.from;
  if (from === undefined) return { verdict: 'reject', reason: 'unsigned' };
  const node = ctx.membership.nodeOf(from);
  if (node === undefined) return { verdict: 'ignore', reason: 'nonMember', detail: from };
  if (ctx.limiter && !ctx.limiter.take(from)) return { verdict: 'ignore', reason: 'rateLimited', detail: node };
  const decoded = decodeMessage(incoming.data, topicType, ctx.maxMessageBytes);
  if (!decoded.ok) return { verdict: 'reject', reason: decoded.reason, detail: decoded.detail };
  if (decoded.message.run !== ctx.run) return { verdict: 'reject', reason: 'malformed', detail: `run ${decoded.message.run}` };
  // sentAt is for display only, but whoever shows it (the observer's page) needs a real date; a day covers any sane clock skew.
  if (Math.abs(decoded.message.sentAt - ctx.now) > MAX_CLOCK_DISTANCE_MS) {
    return { verdict: 'reject', reason: 'malformed', detail: `sentAt ${decoded.message.sentAt} is more than a day from this node's clock` };
  }
  if (decoded.message.node !== node) {
    return { verdict: 'reject', reason: 'impersonation', detail: `${from} is ${node}, says ${decoded.message.node}` };
  }
  return { verdict: 'accept', from, message: decoded.message };
}
