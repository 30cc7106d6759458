import { describe, expect, it } from 'vitest';
import { Membership } from '../../src/gossip/membership.js';

describe('Membership', () => {
  it('keeps live records only and says who came and went', () => {
    const members = new Membership('P-self');
    expect(members.update([
      { node: 'self', peerId: 'P-self', addrs: [] },
      { node: 'a', peerId: 'P-a', addrs: ['/ip4/127.0.0.1/tcp/1'] },
      { node: 'b', peerId: 'P-b', addrs: [], stale: true },
    ])).toEqual({ added: ['P-a', 'P-self'], removed: [], duplicates: [] });
    expect(members.has('P-b')).toBe(false);
    expect(members.nodeOf('P-a')).toBe('a');
    expect(members.addrsOf('P-a')).toEqual(['/ip4/127.0.0.1/tcp/1']);
    expect(members.others()).toEqual(['P-a']);

    expect(members.update([
      { node: 'self', peerId: 'P-self', addrs: [] },
      { node: 'a', peerId: 'P-a', addrs: [], stale: true },
      { node: 'b', peerId: 'P-b', addrs: [] },
    ])).toEqual({ added: ['P-b'], removed: ['P-a'], duplicates: [] });
    expect(members.size).toBe(2);
  });

  it('gives a peer id claimed by two live records to the first node only', () => {
    const members = new Membership('P-self');
    const change = members.update([
      { node: 'z-copy', peerId: 'P-x', addrs: [] },
      { node: 'a-original', peerId: 'P-x', addrs: [] },
    ]);
    expect(change.duplicates).toEqual(['P-x']);
    expect(members.nodeOf('P-x')).toBe('a-original');
  });
});
