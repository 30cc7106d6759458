/**
 * Issue 19, part 3: hostile gossip input that the product already handles,
 * one test each. Cases covered elsewhere are only named here:
 *   - a stranger without a node record is refused by every member:
 *     test/gossip/cluster.test.ts "a stranger without a member record ..."
 *   - a member with another swarm key is kept out (and "swarm key mismatch?"
 *     is logged): test/gossip/cluster.test.ts
 *   - a validly signed message from a non-member, relayed by a member:
 *     test/gossip/cluster.test.ts "a forged message ..."
 *   - a member naming another node, a 9 KB message, another run, garbage:
 *     test/gossip/wire.test.ts "drops and counts malformed, ..."
 *   - malformed key files as parsed: test/gossip/swarm-key.test.ts
 * What follows fills the gaps: a peer with no key at all, a signature made by
 * another peer, unsigned messages, a frame far over the size limit, and the
 * real CLIs given a malformed key file. One gossip node (with a swarm key)
 * against hand-driven libp2p peers, all real, on 127.0.0.1.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RPC } from '@chainsafe/libp2p-gossipsub/message';
import { RPC as RpcCodec } from '@chainsafe/libp2p-gossipsub/message';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLibp2pNode, type Libp2pNode } from '../../src/gossip/create-libp2p-node.js';
import type { Gossip, GossipCounters, ReceivedMessage } from '../../src/gossip/gossip.js';
import { createGossip } from '../../src/gossip/libp2p-gossip.js';
import { GOSSIP_SCHEMA, eventsTopic, progressTopic } from '../../src/gossip/messages.js';
import { generateSwarmKey, parseSwarmKey } from '../../src/gossip/swarm-key.js';
import { systemClock } from '../../src/time/system-clock.js';
import { systemIds } from '../../src/util/ids.js';
import { silentLogger } from '../../src/util/logger.js';
import { runBuiltCli } from '../support/cli.js';
import { until } from '../support/until.js';

const RUN = 'catalogue-run';
const ITEM = '0000000000-0000001000';
const TOPICS = [progressTopic(RUN), eventsTopic(RUN)];
const swarmKey = parseSwarmKey(generateSwarmKey());

let root: string;
let gossip: Gossip;
/** A member (listed, same key) that sends what the test wants. */
let member: Libp2pNode;
let memberKey: PrivateKey;
/** A member's peer id whose node is not running: the identity a forger claims. */
let absentPeerId: string;
const received: ReceivedMessage[] = [];

const released = (node: string): Uint8Array =>
  new TextEncoder().encode(JSON.stringify({ schema: GOSSIP_SCHEMA, run: RUN, node, id: systemIds.ulid(), sentAt: systemClock.now(), type: 'event', event: 'released', item: ITEM }));

function rawNode(privateKey: PrivateKey, key: Uint8Array | undefined): Promise<Libp2pNode> {
  return createLibp2pNode({
    privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], topics: TOPICS, gater: {},
    maxInboundDataLength: 4 << 20, ...(key ? { swarmKey: key } : {}),
  });
}

/** Sends one RPC through gossipsub's own stream to the node (what a modified peer can do; no API for it). */
function sendRpc(from: Libp2pNode, messages: RPC.Message[]): void {
  const pubsub = from.services.pubsub as unknown as { sendRpc(peer: string, rpc: RPC): boolean };
  if (!pubsub.sendRpc(gossip.peerId, { subscriptions: [], messages })) throw new Error('no stream to the gossip node');
}

/** A message as gossipsub signs it, but claiming `author` and signed with `signer`'s key. */
async function signedAs(author: string, signer: PrivateKey, topic: string, data: Uint8Array): Promise<RPC.Message> {
  const { peerIdFromString } = await import('@libp2p/peer-id');
  const message: RPC.Message = { from: peerIdFromString(author).toMultihash().bytes, data, seqno: crypto.getRandomValues(new Uint8Array(8)), topic };
  const payload = new Uint8Array([...new TextEncoder().encode('libp2p-pubsub:'), ...RpcCodec.Message.encode(message)]);
  return { ...message, signature: await signer.sign(payload) };
}

const counters = (): GossipCounters => gossip.counters();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gossip-catalogue-'));
  memberKey = await generateKeyPair('Ed25519');
  absentPeerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
  member = await rawNode(memberKey, swarmKey);
  await member.start();
  for (const topic of TOPICS) member.services.pubsub.subscribe(topic);
  gossip = await createGossip({
    run: RUN, node: 'host-a', dataDir: join(root, 'host-a'), listen: ['/ip4/127.0.0.1/tcp/0'], swarmKey,
    clock: systemClock, ids: systemIds, logger: silentLogger,
  });
  gossip.onMessage((message) => received.push(message));
  await gossip.start();
  gossip.setMembers([
    { node: 'host-a', peerId: gossip.peerId, addrs: gossip.addresses() },
    { node: 'host-x', peerId: peerIdFromPrivateKey(memberKey).toString(), addrs: member.getMultiaddrs().map(String) },
    { node: 'host-b', peerId: absentPeerId, addrs: [] },
  ]);
  await member.dial(gossip.addresses().map((address) => multiaddr(address)));
  await until(() => member.services.pubsub.getSubscribers(eventsTopic(RUN)).length, (n) => n === 1, 'the gossip node to subscribe');
});

afterAll(async () => {
  await gossip?.stop();
  await member?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

/** Publishes a genuine message from the member and waits for it: everything sent before it has been handled. */
async function flush(): Promise<void> {
  const count = received.length;
  await member.services.pubsub.publish(eventsTopic(RUN), released('host-x'));
  await until(() => received.length, (n) => n === count + 1, 'the genuine message after the hostile ones');
}

describe('strangers', () => {
  it('a node started without the swarm key cannot connect, even listed as a member, and says why', async () => {
    const logs: Array<Record<string, unknown>> = [];
    const stranger = await createGossip({
      run: RUN, node: 'host-s', dataDir: join(root, 'host-s'), listen: ['/ip4/127.0.0.1/tcp/0'],
      clock: systemClock, ids: systemIds, logger: pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) }),
      tuning: { dialPolicy: { minBackoffMs: 300, maxBackoffMs: 1_000, fallbackMs: 0 } },
    });
    await stranger.start();
    try {
      const before = counters();
      const members = [
        { node: 'host-a', peerId: gossip.peerId, addrs: gossip.addresses() },
        { node: 'host-x', peerId: peerIdFromPrivateKey(memberKey).toString(), addrs: member.getMultiaddrs().map(String) },
        { node: 'host-b', peerId: absentPeerId, addrs: [] },
        { node: 'host-s', peerId: stranger.peerId, addrs: stranger.addresses() },
      ];
      gossip.setMembers(members);
      stranger.setMembers(members);
      stranger.publishProgress({ state: 'working', items: [] });
      // It dials everyone it knows at once (fallbackMs 0) and fails in the handshake.
      await until(() => logs.filter((l) => /swarm key mismatch\?/.test(String(l.msg))), (l) => l.length > 0, 'the stranger to warn', 30_000);
      expect(logs.find((l) => /swarm key mismatch/.test(String(l.msg)))!.msg).toMatch(/this node has none/);
      const mine = stranger.counters();
      expect(mine).toMatchObject({ connections: 0, received: 0 });
      expect(mine.dialFailures).toBeGreaterThan(0);
      expect(counters().received).toBe(before.received);
      expect(received.filter((m) => m.message.node === 'host-s')).toEqual([]);
    } finally {
      await stranger.stop();
      gossip.setMembers([
        { node: 'host-a', peerId: gossip.peerId, addrs: gossip.addresses() },
        { node: 'host-x', peerId: peerIdFromPrivateKey(memberKey).toString(), addrs: member.getMultiaddrs().map(String) },
        { node: 'host-b', peerId: absentPeerId, addrs: [] },
      ]);
    }
  });
});

describe('forged messages', () => {
  it('claiming a member as author but signed by another key: dropped by the signature check, never delivered', async () => {
    const before = counters();
    sendRpc(member, [await signedAs(absentPeerId, memberKey, eventsTopic(RUN), released('host-b'))]);
    await flush();
    const after = counters();
    expect(after.received - before.received).toBe(2);
    expect(after.accepted - before.accepted).toBe(1); // the genuine one
    expect(received.filter((m) => m.message.node === 'host-b')).toEqual([]);
  });

  it('without a signature (or author, or sequence number): dropped before anything else, counted as unsigned', async () => {
    const before = counters();
    const good = await signedAs(peerIdFromPrivateKey(memberKey).toString(), memberKey, eventsTopic(RUN), released('host-x'));
    sendRpc(member, [{ ...good, signature: undefined }, { ...good, from: undefined }, { ...good, seqno: undefined }]);
    await flush();
    expect(counters().dropped.unsigned - before.dropped.unsigned).toBe(3);
    expect(counters().accepted - before.accepted).toBe(1);
  });
});

describe('oversized messages', () => {
  it('over 8 KiB: dropped before the signature is checked (a forged signature is not even looked at)', async () => {
    const before = counters();
    const big = new TextEncoder().encode(JSON.stringify({ pad: 'x'.repeat(9_000) }));
    sendRpc(member, [await signedAs(absentPeerId, memberKey, eventsTopic(RUN), big)]);
    await flush();
    expect(counters().dropped.oversized - before.dropped.oversized).toBe(1);
  });

  it('a frame over the 1 MiB frame limit: refused unread; the node cuts that peer\'s gossip streams until it reconnects', async () => {
    const before = counters();
    sendRpc(member, [await signedAs(peerIdFromPrivateKey(memberKey).toString(), memberKey, eventsTopic(RUN), new Uint8Array(2 << 20))]);
    const memberId = peerIdFromPrivateKey(memberKey).toString();
    const subscribed = (): boolean => gossip.counters().connections > 0 && (member.services.pubsub.getSubscribers(eventsTopic(RUN)).length > 0);
    // gossipsub's reader refuses the frame before decoding it and drops the peer (its streams; the connection stays).
    await until(() => (gossip as unknown as { node: Libp2pNode }).node.services.pubsub.getPeers().map(String).includes(memberId), (has) => !has, 'the node to drop the peer\'s gossip');
    expect(counters().received).toBe(before.received);
    // The peer's own fault: nothing of it was delivered or decoded; a new connection brings it back.
    await member.hangUp(multiaddr(gossip.addresses()[0]!));
    await member.dial(gossip.addresses().map((address) => multiaddr(address)));
    await until(subscribed, Boolean, 'the member to subscribe again');
    await flush();
    expect(received.every((m) => m.message.node === 'host-x')).toBe(true);
  });
});

describe('bad swarm key files', () => {
  it.each([
    ['an empty file', ''],
    ['a truncated key', `/key/swarm/psk/1.0.0/\n/base16/\n${'ab'.repeat(31)}\n`],
    ['a base64 key', `/key/swarm/psk/1.0.0/\n/base64/\n${Buffer.alloc(32, 7).toString('base64')}\n`],
    ['binary garbage', Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x0a, 0x80])],
  ])('%s: both CLIs exit 2 with one line naming the file and how to make a good one', async (_what, content) => {
    const dir = await mkdtemp(join(root, 'key-'));
    const path = join(dir, 'swarm.key');
    await writeFile(path, content);
    const store = pathToFileURL(join(dir, 'store')).href;
    await mkdir(join(dir, 'store'));
    for (const [cli, args] of [
      ['replay-node', ['join', '--store', store, '--run', 'r1', '--swarm-key', path, '--data-dir', join(dir, 'node')]],
      ['replay-observer', ['serve', '--store', store, '--port', '0', '--swarm-key', path, '--data-dir', join(dir, 'observer')]],
    ] as const) {
      const outcome = await runBuiltCli(cli, [...args]);
      expect(outcome.exitCode).toBe(2);
      const lines = outcome.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${cli}: swarm key ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*replay-node swarm-key --out FILE`));
    }
  });

  it('a directory or a missing file: the same one line, with the way to make a key', async () => {
    const dir = await mkdtemp(join(root, 'key-'));
    for (const path of [dir, join(dir, 'missing.key')]) {
      const outcome = await runBuiltCli('replay-node', ['join', '--store', pathToFileURL(dir).href, '--run', 'r1', '--swarm-key', path]);
      expect(outcome.exitCode).toBe(2);
      expect(outcome.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^replay-node: swarm key .*: cannot read it \((EISDIR|ENOENT)\); .*replay-node swarm-key --out FILE/)]);
    }
  });
});
