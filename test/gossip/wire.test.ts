import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * One gossip node against a hand-driven libp2p peer (both real, over TCP on
 * 127.0.0.1, in this process): the peer is a member but sends whatever bytes
 * the test wants, which a well-behaved gossip node never would.
 */
const RUN = 'wire-run';
const ITEM = '0000000000-0000001000';

let gossip: Gossip;
let raw: Libp2pNode;
const received: ReceivedMessage[] = [];

const envelope = (node: string) => ({ schema: GOSSIP_SCHEMA, run: RUN, node, id: systemIds.ulid(), sentAt: systemClock.now() });
const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const publishRaw = (topic: string, data: Uint8Array) => raw.services.pubsub.publish(topic, data);

beforeAll(async () => {
  const rawKey = await generateKeyPair('Ed25519');
  const rawPeerId = peerIdFromPrivateKey(rawKey).toString();
  raw = await createLibp2pNode({
    privateKey: rawKey, listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [],
    topics: [progressTopic(RUN), eventsTopic(RUN)], gater: {}, maxInboundDataLength: 1 << 20,
  });
  await raw.start();
  raw.services.pubsub.subscribe(progressTopic(RUN));
  raw.services.pubsub.subscribe(eventsTopic(RUN));

  gossip = await createGossip({
    run: RUN, node: 'host-a', dataDir: await mkdtemp(join(tmpdir(), 'gossip-wire-')), listen: ['/ip4/127.0.0.1/tcp/0'],
    clock: systemClock, ids: systemIds, logger: silentLogger,
    tuning: { rateLimit: { perSecond: 1, burst: 10 } },
  });
  gossip.onMessage((message) => received.push(message));
  await gossip.start();
  gossip.setMembers([
    { node: 'host-a', peerId: gossip.peerId, addrs: gossip.addresses() },
    { node: 'host-x', peerId: rawPeerId, addrs: raw.getMultiaddrs().map(String) },
  ]);
  await raw.dial(gossip.addresses().map((address) => multiaddr(address)));
  await until(() => raw.services.pubsub.getSubscribers(eventsTopic(RUN)).length, (n) => n === 1, 'the gossip node to subscribe');
});

afterAll(async () => {
  await gossip?.stop();
  await raw?.stop();
});

describe('a gossip node receiving from a member that misbehaves on the wire', () => {
  it('delivers a well-formed message from the member', async () => {
    await publishRaw(eventsTopic(RUN), json({ ...envelope('host-x'), type: 'event', event: 'claimed', item: ITEM, epoch: 1 }));
    await until(() => received.length, (n) => n === 1, 'the claimed event');
    expect(received[0]!.message).toMatchObject({ node: 'host-x', event: 'claimed', item: ITEM, epoch: 1 });
  });

  it('drops and counts malformed, oversized, impersonating and foreign-run messages', async () => {
    const before = gossip.counters();
    await publishRaw(eventsTopic(RUN), new TextEncoder().encode('{"not": "a message"'));
    await publishRaw(eventsTopic(RUN), json({ ...envelope('host-x'), type: 'progress', state: 'working', items: [] })); // wrong topic
    await publishRaw(eventsTopic(RUN), json({ ...envelope('host-x'), type: 'event', event: 'done', item: ITEM, hash: 'ab'.repeat(32), pad: 'x'.repeat(9000) }));
    await publishRaw(eventsTopic(RUN), json({ ...envelope('host-a'), type: 'event', event: 'released', item: ITEM }));
    await publishRaw(eventsTopic(RUN), json({ ...envelope('host-x'), run: 'other-run', type: 'event', event: 'released', item: ITEM }));
    const counters = await until(
      () => gossip.counters(),
      (c: GossipCounters) => c.received - before.received >= 5,
      'five messages to arrive',
    );
    expect(counters.dropped).toMatchObject({ malformed: 3, oversized: 1, impersonation: 1, nonMember: 0, rateLimited: 0 });
    expect(counters.accepted).toBe(before.accepted);
    expect(received).toHaveLength(1);
  });

  it('rate-limits a flooding member per peer', async () => {
    const before = gossip.counters();
    for (let i = 0; i < 20; i++) {
      await publishRaw(progressTopic(RUN), json({ ...envelope('host-x'), type: 'progress', state: 'working', items: [{ item: ITEM, headBlock: i, blocksPerSecond: 1 }] }));
    }
    const counters = await until(() => gossip.counters(), (c: GossipCounters) => c.received - before.received >= 20, 'the flood to arrive');
    const accepted = counters.accepted - before.accepted;
    // Ten tokens, six spent by the messages above, plus one per second since: most of the 20 are dropped.
    expect(accepted).toBeGreaterThanOrEqual(4);
    expect(accepted).toBeLessThanOrEqual(8);
    expect(counters.dropped.rateLimited - before.dropped.rateLimited).toBe(20 - accepted);
  });
});
