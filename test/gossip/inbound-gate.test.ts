import type { RPC } from '@chainsafe/libp2p-gossipsub/message';
import { describe, expect, it } from 'vitest';
import { InboundGate, type GateDrop } from '../../src/gossip/inbound-gate.js';
import { RateLimiter } from '../../src/gossip/rate-limiter.js';
import { ManualClock } from '../../src/time/manual-clock.js';

const signed = (size = 10): RPC.Message => ({
  topic: 't', from: new Uint8Array(38), seqno: new Uint8Array(8), signature: new Uint8Array(64), data: new Uint8Array(size),
});

function gate(perSecond = 10, burst = 3) {
  const clock = new ManualClock();
  const drops: Array<[GateDrop, string]> = [];
  let offered = 0;
  const g = new InboundGate({
    limiter: new RateLimiter(clock, { perSecond, burst }),
    maxMessageBytes: 100,
    onOffered: () => {
      offered += 1;
    },
    onDrop: (reason, peer) => drops.push([reason, peer]),
  });
  return { clock, g, drops, offered: () => offered };
}

describe('InboundGate', () => {
  it('charges the delivering peer, one token per message, before anything else', async () => {
    const { clock, g, drops, offered } = gate();
    expect(g.admit('relay-1', [signed(), signed(), signed(), signed(), signed()])).toHaveLength(3);
    expect(drops).toEqual([['throttled', 'relay-1'], ['throttled', 'relay-1']]);
    expect(g.admit('relay-2', [signed()])).toHaveLength(1); // another peer has its own budget
    await clock.advance(100); // one token back
    expect(g.admit('relay-1', [signed(), signed()])).toHaveLength(1);
    expect(offered()).toBe(8);
  });

  it('drops oversized and unsigned messages without handing them on', () => {
    const { g, drops } = gate(100, 100);
    const unsigned = { ...signed(), signature: undefined };
    const kept = g.admit('relay', [signed(101), unsigned, { ...signed(), from: undefined }, { ...signed(), seqno: undefined }, signed(100)]);
    expect(kept).toHaveLength(1);
    expect(drops.map(([reason]) => reason)).toEqual(['oversized', 'unsigned', 'unsigned', 'unsigned']);
  });
});
