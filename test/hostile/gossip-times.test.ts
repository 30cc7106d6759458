/**
 * Issue 19: a member's message with `sentAt` = 2^53-1 passed validation,
 * and the observer's page threw a RangeError formatting it. Now a node (and
 * the observer, which screens with the same code) drops messages whose time
 * lies more than a day from its own clock, and the page formats only what
 * is a date. Real gossip on 127.0.0.1 against a hand-driven member; the page
 * script in a sandbox with just the DOM it touches.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLibp2pNode, type Libp2pNode } from '../../src/gossip/create-libp2p-node.js';
import type { Gossip, GossipCounters, ReceivedMessage } from '../../src/gossip/gossip.js';
import { createGossip } from '../../src/gossip/libp2p-gossip.js';
import { GOSSIP_SCHEMA, eventsTopic, progressTopic } from '../../src/gossip/messages.js';
import { systemClock } from '../../src/time/system-clock.js';
import { systemIds } from '../../src/util/ids.js';
import { silentLogger } from '../../src/util/logger.js';
import { until } from '../support/until.js';

const RUN = 'times-run';
const ITEM = '0000000000-0000001000';
const DAY = 24 * 60 * 60 * 1000;

let gossip: Gossip;
let raw: Libp2pNode;
const received: ReceivedMessage[] = [];
const released = (sentAt: unknown) =>
  new TextEncoder().encode(JSON.stringify({ schema: GOSSIP_SCHEMA, run: RUN, node: 'host-x', id: systemIds.ulid(), sentAt, type: 'event', event: 'released', item: ITEM }));

beforeAll(async () => {
  const key = await generateKeyPair('Ed25519');
  raw = await createLibp2pNode({
    privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [],
    topics: [progressTopic(RUN), eventsTopic(RUN)], gater: {}, maxInboundDataLength: 1 << 20,
  });
  await raw.start();
  raw.services.pubsub.subscribe(eventsTopic(RUN));
  gossip = await createGossip({
    run: RUN, node: 'host-a', dataDir: await mkdtemp(join(tmpdir(), 'gossip-times-')), listen: ['/ip4/127.0.0.1/tcp/0'],
    clock: systemClock, ids: systemIds, logger: silentLogger,
  });
  gossip.onMessage((message) => received.push(message));
  await gossip.start();
  gossip.setMembers([
    { node: 'host-a', peerId: gossip.peerId, addrs: gossip.addresses() },
    { node: 'host-x', peerId: peerIdFromPrivateKey(key).toString(), addrs: raw.getMultiaddrs().map(String) },
  ]);
  await raw.dial(gossip.addresses().map((address) => multiaddr(address)));
  await until(() => raw.services.pubsub.getSubscribers(eventsTopic(RUN)).length, (n) => n === 1, 'the gossip node to subscribe');
});

afterAll(async () => {
  await gossip?.stop();
  await raw?.stop();
});

describe('gossip times from another host', () => {
  it('drops a sentAt that is not a plausible time (more than a day from this clock), delivers one hours off', async () => {
    const before = gossip.counters();
    const now = systemClock.now();
    const bad = [Number.MAX_SAFE_INTEGER, now + 2 * DAY, now - 2 * DAY, 0, -1, 1e300, '2026-01-01T00:00:00Z', null];
    for (const sentAt of bad) await raw.services.pubsub.publish(eventsTopic(RUN), released(sentAt));
    await raw.services.pubsub.publish(eventsTopic(RUN), released(now - 3 * 60 * 60 * 1000));
    await until(() => received.length, (n) => n === 1, 'the plausible message');
    const counters = await until(() => gossip.counters(), (c: GossipCounters) => c.dropped.malformed - before.dropped.malformed >= bad.length, 'every bad time dropped');
    expect(counters.dropped.malformed - before.dropped.malformed).toBe(bad.length);
    expect(received.map((m) => m.message.sentAt)).toEqual([now - 3 * 60 * 60 * 1000]);
  });
});

/** Runs static/observer.js against a fake page and EventSource; returns a way to send it events and read its log. */
async function loadPageScript() {
  const source = await readFile(new URL('../../static/observer.js', import.meta.url), 'utf8');
  const listeners = new Map<string, (event: { data: string }) => void>();
  const log = {
    items: [] as Array<{ textContent: string }>,
    prepend(item: { textContent: string }) {
      this.items.unshift(item);
    },
    get children() {
      return this.items;
    },
    get lastElementChild() {
      return { remove: () => this.items.pop() };
    },
  };
  const window = {
    addEventListener() {},
    dispatchEvent() {},
    location: { pathname: '/runs/r1', href: '' },
    replayObserver: undefined as unknown,
  };
  const sandbox = {
    window,
    document: {
      body: { dataset: { run: 'r1', live: '1' } },
      getElementById: (id: string) => (id === 'event-log' ? log : null),
      createElement: () => ({ textContent: '' }),
    },
    EventSource: class {
      addEventListener(type: string, listener: (event: { data: string }) => void) {
        listeners.set(type, listener);
      }
    },
    CustomEvent: class {
      constructor(readonly type: string) {}
    },
    performance,
    fetch: () => Promise.reject(new Error('no network here')),
    requestAnimationFrame: () => 0,
    cancelAnimationFrame: () => {},
  };
  runInNewContext(source, sandbox);
  return {
    gossip: (message: object) => listeners.get('gossip')!({ data: JSON.stringify(message) }),
    lines: () => log.items.map((item) => item.textContent),
  };
}

describe("the observer page's gossip log", () => {
  it('shows dashes for a time that is not a date instead of throwing, and the time of day otherwise', async () => {
    const page = await loadPageScript();
    for (const sentAt of [Number.MAX_SAFE_INTEGER, 8.64e15 + 1, 'soon', null, undefined]) {
      expect(() => page.gossip({ node: 'n1', event: 'released', item: ITEM, sentAt })).not.toThrow();
    }
    page.gossip({ node: 'n1', event: 'done', item: ITEM, sentAt: Date.UTC(2026, 0, 2, 13, 4, 5) });
    const lines = page.lines();
    expect(lines[0]).toBe(`13:04:05 n1 done ${ITEM}`);
    expect(lines.slice(1)).toEqual(Array(5).fill(`--:--:-- n1 released ${ITEM}`));
  });
});
