import { describe, expect, it } from 'vitest';
import { CorruptObjectError } from '../../src/layout/schema.js';
import { decodeControl, effectiveControl, encodeControl } from '../../src/records/control-record.js';
import { decodeNodeRecord } from '../../src/records/node-record.js';
import { decodeResult, encodeResult, sameOutcome, verdictOf, type ResultRecord } from '../../src/records/result-record.js';

const result: ResultRecord = {
  schema: 'replay/result/v1', run: 'r', item: '0000000000-0000000100', start: 0, end: 100,
  startHash: 'aa', endHash: 'bb', headBlock: 100, headBlockId: '00000064ff', node: 'n1', epoch: 1, nonce: 'x',
  startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', runner: 'sim/1', verdict: 'unverified', timings: {},
};

describe('records', () => {
  it('verdicts compare hashes case-insensitively and say unverified without a reference', () => {
    expect(verdictOf('AB', 'ab')).toBe('match');
    expect(verdictOf('ab', 'cd')).toBe('mismatch');
    expect(verdictOf('ab', undefined)).toBe('unverified');
  });

  it('same outcome needs equal end hashes, and equal start hashes where both are known', () => {
    expect(sameOutcome({ endHash: 'a', startHash: 's' }, { endHash: 'A', startHash: 'S' })).toBe(true);
    expect(sameOutcome({ endHash: 'a' }, { endHash: 'a', startHash: 's' })).toBe(true);
    expect(sameOutcome({ endHash: 'a', startHash: 's' }, { endHash: 'a', startHash: 't' })).toBe(false);
    expect(sameOutcome({ endHash: 'a' }, { endHash: 'b' })).toBe(false);
  });

  it('a result round-trips; a corrupt one is a CorruptObjectError naming the key and field', () => {
    expect(decodeResult('k', encodeResult(result))).toEqual(result);
    expect(() => decodeResult('k', '{"schema":"replay/result/v1"}')).toThrow(CorruptObjectError);
    expect(() => decodeResult('k', JSON.stringify({ ...result, endHash: '' }))).toThrow(/k: field "endHash"/);
    expect(() => decodeResult('k', 'not json')).toThrow(/not valid JSON/);
  });

  it('node records need a known state and a stale-after', () => {
    const base = { schema: 'replay/node/v1', node: 'n', state: 'working', items: [], staleAfterMs: 1000 };
    expect(decodeNodeRecord('k', JSON.stringify(base)).state).toBe('working');
    expect(() => decodeNodeRecord('k', JSON.stringify({ ...base, state: 'dead' }))).toThrow(/state/);
    expect(() => decodeNodeRecord('k', JSON.stringify({ ...base, staleAfterMs: 0 }))).toThrow(/staleAfterMs/);
  });

  it('control: either the node object or the all object pauses or drains', () => {
    const record = { schema: 'replay/control/v1' as const, run: 'r', target: 'all', paused: true, drain: false, requestedBy: 'op', requestedAt: 'now' };
    expect(decodeControl('k', encodeControl(record)).paused).toBe(true);
    expect(() => decodeControl('k', JSON.stringify({ ...record, paused: 'yes' }))).toThrow(/paused/);
    expect(effectiveControl(undefined, undefined)).toEqual({ paused: false, drain: false });
    expect(effectiveControl({ paused: false, drain: true }, { paused: true, drain: false })).toEqual({ paused: true, drain: true });
  });
});
