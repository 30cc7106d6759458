import { describe, expect, it } from 'vitest';
import { GossipHints } from '../../src/gossip/hints.js';
import { GOSSIP_SCHEMA, type EventUpdate, type GossipMessage } from '../../src/gossip/messages.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { seededIds } from '../../src/util/ids.js';

const A = '0000000000-0000001000';
const B = '0000001000-0000002000';
const ids = seededIds(7);
let t = Date.UTC(2026, 0, 1);

function received(node: string, body: { type: 'progress'; state: string; items: string[] } | ({ type: 'event' } & EventUpdate), id = ids.ulid()) {
  const envelope = { schema: GOSSIP_SCHEMA, run: 'r', node, id, sentAt: (t += 1) };
  const message = body.type === 'progress'
    ? { ...envelope, type: 'progress', state: body.state, items: body.items.map((item) => ({ item, headBlock: 1, blocksPerSecond: 1 })) }
    : { ...envelope, ...body };
  return { from: `P-${node}`, message: message as GossipMessage };
}

describe('GossipHints', () => {
  it('knows who holds what from claims and progress, until released, lost, done or left', () => {
    const hints = new GossipHints(new ManualClock(), 'me');
    hints.observe(received('n1', { type: 'event', event: 'claimed', item: A }));
    hints.observe(received('n2', { type: 'progress', state: 'working', items: [B] }));
    expect(hints.heldElsewhere(A)).toBe('n1');
    expect(hints.heldElsewhere(B)).toBe('n2');

    hints.observe(received('n1', { type: 'event', event: 'released', item: A }));
    expect(hints.heldElsewhere(A)).toBeUndefined();
    expect(hints.takeReleased()).toEqual([A]);
    expect(hints.takeReleased()).toEqual([]);

    hints.observe(received('n2', { type: 'event', event: 'done', item: B, hash: 'ab'.repeat(32) }));
    expect(hints.heldElsewhere(B)).toBeUndefined();
    expect(hints.finishedHash(B)).toBe('ab'.repeat(32));

    hints.observe(received('n3', { type: 'progress', state: 'working', items: [A] }));
    hints.observe(received('n3', { type: 'event', event: 'leaving' }));
    expect(hints.heldElsewhere(A)).toBeUndefined();
    expect(hints.peerStates().map((p) => p.node)).toEqual(['n2']);
  });

  it('a release by someone else does not clear the current holder', () => {
    const hints = new GossipHints(new ManualClock(), 'me');
    hints.observe(received('n1', { type: 'event', event: 'claimed', item: A }));
    hints.observe(received('n2', { type: 'event', event: 'renewed-lost', item: A }));
    expect(hints.heldElsewhere(A)).toBe('n1');
  });

  it('forgets a claim not heard of for longer than the hold TTL (a lost release costs one wasted claim, no more)', async () => {
    const clock = new ManualClock();
    const hints = new GossipHints(clock, 'me', 10_000);
    hints.observe(received('n1', { type: 'event', event: 'claimed', item: A }));
    await clock.advance(9_000);
    expect(hints.heldElsewhere(A)).toBe('n1');
    await clock.advance(1_001);
    expect(hints.heldElsewhere(A)).toBeUndefined();
  });

  it('progress replaces the node\'s items, and an older progress message arriving late is ignored', () => {
    const hints = new GossipHints(new ManualClock(), 'me');
    const [older, newer, newest] = ['01KAB3TQ5Z0000000000000001', '01KAB3TQ5Z0000000000000002', '01KAB3TQ5Z0000000000000003'];
    hints.observe(received('n1', { type: 'progress', state: 'working', items: [B] }, newer));
    hints.observe(received('n1', { type: 'progress', state: 'working', items: [A] }, older));
    expect(hints.heldElsewhere(A)).toBeUndefined();
    expect(hints.heldElsewhere(B)).toBe('n1');
    hints.observe(received('n1', { type: 'progress', state: 'waiting', items: [] }, newest));
    expect(hints.heldElsewhere(B)).toBeUndefined();
    expect(hints.peerStates()[0]).toMatchObject({ node: 'n1', state: 'waiting' });
  });

  it('ignores its own messages', () => {
    const hints = new GossipHints(new ManualClock(), 'me');
    hints.observe(received('me', { type: 'event', event: 'claimed', item: A }));
    expect(hints.heldElsewhere(A)).toBeUndefined();
  });
});
