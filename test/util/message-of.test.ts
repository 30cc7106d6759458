import { describe, expect, it } from 'vitest';
import { messageOf } from '../../src/util/message-of.js';

describe('messageOf', () => {
  it("gives an Error's message", () => {
    expect(messageOf(new Error('disk full'))).toBe('disk full');
    expect(messageOf(new TypeError('bad type'))).toBe('bad type');
  });

  it('gives a thrown string as is', () => {
    expect(messageOf('plain text')).toBe('plain text');
  });

  it('turns any other thrown value into text rather than "undefined"', () => {
    expect(messageOf(42)).toBe('42');
    expect(messageOf(null)).toBe('null');
    expect(messageOf({ code: 'EIO' })).toBe('[object Object]');
  });
});
