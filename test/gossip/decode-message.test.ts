import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/gossip/decode-message.js';
import { GOSSIP_SCHEMA, MAX_MESSAGE_BYTES, MAX_PROGRESS_ITEMS, encodeMessage, type GossipMessage } from '../../src/gossip/messages.js';

const ITEM = '0100000000-0100250000';
const HASH = 'ab'.repeat(32);
const envelope = { schema: GOSSIP_SCHEMA, run: 'run-1', node: 'host-a', id: '01KAB3TQ5ZJ0Q7M5H2E5W8X9YZ', sentAt: 1_767_225_600_000 } as const;
const progress: GossipMessage = { ...envelope, type: 'progress', state: 'working', items: [{ item: ITEM, headBlock: 100_000_123, blocksPerSecond: 812.5 }] };
const done: GossipMessage = { ...envelope, type: 'event', event: 'done', item: ITEM, hash: HASH, epoch: 2 };

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const reasonOf = (value: unknown, type: GossipMessage['type'] = 'event'): string => {
  const result = decodeMessage(bytes(value), type);
  return result.ok ? 'ok' : `${result.reason}: ${result.detail}`;
};

describe('decodeMessage', () => {
  it('round-trips progress and every kind of event', () => {
    expect(decodeMessage(encodeMessage(progress), 'progress')).toEqual({ ok: true, message: progress });
    expect(decodeMessage(encodeMessage(done), 'event')).toEqual({ ok: true, message: done });
    for (const event of ['claimed', 'renewed-lost', 'released', 'failed'] as const) {
      const message = { ...envelope, type: 'event', event, item: ITEM, reason: 'because' } as const;
      expect(decodeMessage(encodeMessage(message), 'event')).toEqual({ ok: true, message });
    }
    for (const event of ['joining', 'leaving'] as const) {
      expect(reasonOf({ ...envelope, type: 'event', event })).toBe('ok');
    }
    expect(reasonOf({ ...envelope, type: 'event', event: 'conflict', item: ITEM, hash: HASH })).toBe('ok');
  });

  it('keeps only known fields (additive changes stay within v1)', () => {
    const result = decodeMessage(bytes({ ...done, futureField: { nested: true } }), 'event');
    expect(result).toEqual({ ok: true, message: done });
  });

  it('drops oversized messages before parsing them', () => {
    const fullest = { ...progress, items: Array.from({ length: MAX_PROGRESS_ITEMS }, () => ({ item: '0100000000-0100250000.r9999', headBlock: 9_999_999_999, blocksPerSecond: 12_345.678901 })) };
    expect(reasonOf(fullest, 'progress')).toBe('ok');
    const big = { ...progress, padding: 'x'.repeat(MAX_MESSAGE_BYTES) };
    expect(reasonOf(big, 'progress')).toMatch(/^oversized: \d+ bytes > 8192/);
    expect(decodeMessage(bytes(progress), 'progress', 50)).toMatchObject({ ok: false, reason: 'oversized' });
  });

  it.each([
    ['not JSON', 'not json at all'],
    ['a JSON array', []],
    ['another schema', { ...done, schema: 'replay/gossip/v2' }],
    ['a progress message on the events topic', progress],
    ['an unknown event', { ...done, event: 'exploded' }],
    ['a bad item id', { ...done, item: '100-200' }],
    ['an item event without its item', { ...envelope, type: 'event', event: 'claimed' }],
    ['done without a hash', { ...envelope, type: 'event', event: 'done', item: ITEM }],
    ['a hash that is not hex', { ...done, hash: 'z'.repeat(64) }],
    ['a hash on an event that has none', { ...envelope, type: 'event', event: 'claimed', item: ITEM, hash: HASH }],
    ['an item on joining', { ...envelope, type: 'event', event: 'joining', item: ITEM }],
    ['a node id with a slash', { ...done, node: 'a/b' }],
    ['a run id with ..', { ...done, run: 'x..y' }],
    ['an id that is not a ULID', { ...done, id: 'hello' }],
    ['a negative epoch', { ...done, epoch: -1 }],
    ['a fractional sentAt', { ...done, sentAt: 1.5 }],
    ['an over-long reason', { ...done, reason: 'r'.repeat(301) }],
  ])('rejects %s as malformed', (_what, value) => {
    expect(reasonOf(value)).toMatch(/^malformed: /);
  });

  it.each([
    ['an unknown state shape', { ...progress, state: 'Working!' }],
    ['items that are not an array', { ...progress, items: {} }],
    ['too many items', { ...progress, items: Array.from({ length: MAX_PROGRESS_ITEMS + 1 }, () => progress.items[0]) }],
    ['a negative head block', { ...progress, items: [{ item: ITEM, headBlock: -5, blocksPerSecond: 1 }] }],
    ['a non-finite speed', { ...progress, items: [{ item: ITEM, headBlock: 5, blocksPerSecond: null }] }],
    ['an item entry that is a string', { ...progress, items: [ITEM] }],
  ])('rejects progress with %s', (_what, value) => {
    expect(reasonOf(value, 'progress')).toMatch(/^malformed: /);
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(decodeMessage(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]), 'event')).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
