import { describe, expect, it } from 'vitest';
import { Membership } from '../../src/gossip/membership.js';
import { GOSSIP_SCHEMA, encodeMessage, type GossipMessage } from '../../src/gossip/messages.js';
import { RateLimiter } from '../../src/gossip/rate-limiter.js';
import { screenMessage } from '../../src/gossip/screen-message.js';
import { ManualClock } from '../../src/time/manual-clock.js';

const message = (overrides: Partial<GossipMessage> = {}): Uint8Array =>
  encodeMessage({
    schema: GOSSIP_SCHEMA, run: 'run-1', node: 'host-a', id: '01KAB3TQ5ZJ0Q7M5H2E5W8X9YZ', sentAt: 0,
    type: 'event', event: 'released', item: '0000000000-0000001000', ...overrides,
  } as GossipMessage);

function context() {
  const membership = new Membership('P-self');
  membership.update([{ node: 'host-a', peerId: 'P-a', addrs: [] }, { node: 'host-b', peerId: 'P-b', addrs: [] }]);
  return { run: 'run-1', membership, limiter: new RateLimiter(new ManualClock(), { perSecond: 1, burst: 2 }), maxMessageBytes: 8192, now: 0 };
}

describe('screenMessage', () => {
  it('accepts a member speaking for its own node', () => {
    const screened = screenMessage(context(), 'event', { from: 'P-a', data: message() });
    expect(screened).toMatchObject({ verdict: 'accept', from: 'P-a', message: { node: 'host-a', event: 'released' } });
  });

  it('ignores a validly signed message from a peer without a live node record (no blame on the relay)', () => {
    expect(screenMessage(context(), 'event', { from: 'P-stranger', data: message() })).toMatchObject({ verdict: 'ignore', reason: 'nonMember' });
  });

  it('rejects a member claiming to be another node', () => {
    expect(screenMessage(context(), 'event', { from: 'P-b', data: message() })).toMatchObject({ verdict: 'reject', reason: 'impersonation' });
  });

  it('rejects another run, unsigned messages and garbage', () => {
    const ctx = context();
    expect(screenMessage(ctx, 'event', { from: 'P-a', data: message({ run: 'run-2' }) })).toMatchObject({ verdict: 'reject', reason: 'malformed' });
    expect(screenMessage(ctx, 'event', { from: undefined, data: message() })).toMatchObject({ verdict: 'reject', reason: 'unsigned' });
    expect(screenMessage(ctx, 'event', { from: 'P-b', data: new Uint8Array(9000) })).toMatchObject({ verdict: 'reject', reason: 'oversized' });
  });

  it('rate-limits per author before decoding', () => {
    const ctx = context();
    const verdicts = [1, 2, 3].map(() => screenMessage(ctx, 'event', { from: 'P-a', data: message() }).verdict);
    expect(verdicts).toEqual(['accept', 'accept', 'ignore']);
    expect(screenMessage(ctx, 'event', { from: 'P-b', data: message({ node: 'host-b' }) }).verdict).toBe('accept');
  });

  it('rejects a sentAt more than a day from the receiver\'s clock (2^53-1 is not even a date)', () => {
    const day = 24 * 60 * 60 * 1000;
    const ctx = { ...context(), limiter: undefined, now: Date.UTC(2026, 0, 1) };
    const verdict = (sentAt: number) => screenMessage(ctx, 'event', { from: 'P-a', data: message({ sentAt }) });
    expect(verdict(Number.MAX_SAFE_INTEGER)).toMatchObject({ verdict: 'reject', reason: 'malformed', detail: expect.stringMatching(/^sentAt 9007199254740991 is more than a day/) });
    expect(verdict(ctx.now + day + 1)).toMatchObject({ verdict: 'reject', reason: 'malformed' });
    expect(verdict(ctx.now - day - 1)).toMatchObject({ verdict: 'reject', reason: 'malformed' });
    expect(verdict(0)).toMatchObject({ verdict: 'reject', reason: 'malformed' });
    // Clocks minutes or hours apart are normal between hosts.
    expect(verdict(ctx.now + day).verdict).toBe('accept');
    expect(verdict(ctx.now - 3 * 60 * 60 * 1000).verdict).toBe('accept');
  });
});
