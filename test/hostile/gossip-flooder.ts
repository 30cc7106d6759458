/**
 * A member that floods (issue 19), as its own process so that its signing
 * costs its own CPU, as it would on its own host, and not the event loop of
 * the nodes under test: `node --import tsx gossip-flooder.ts '<json>'`.
 * A bare libp2p node with the run's topics: it signs validly and names its
 * own node, so only rate limits stand in its way. Commands on stdin, JSON
 * lines on stdout.
 */
import '../../src/util/promise-shim.js';
import { createInterface } from 'node:readline';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2pNode } from '../../src/gossip/create-libp2p-node.js';
import { GOSSIP_SCHEMA, eventsTopic, progressTopic } from '../../src/gossip/messages.js';
import { systemClock } from '../../src/time/system-clock.js';
import { systemIds } from '../../src/util/ids.js';
import { wallMonotonic } from '../support/wall-clock.js';

export interface FlooderConfig {
  run: string;
  node: string;
  /** Its private key (protobuf, base64), so the test knows its peer id before it starts. */
  key: string;
}

export type FlooderCommand = { cmd: 'dial'; addrs: string[] } | { cmd: 'flood'; count: number; item: string } | { cmd: 'stop' };

const config = JSON.parse(process.argv[2] ?? '{}') as FlooderConfig;
const out = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const topics = [progressTopic(config.run), eventsTopic(config.run)];
const node = await createLibp2pNode({
  privateKey: privateKeyFromProtobuf(Buffer.from(config.key, 'base64')),
  listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap: [], topics, gater: {}, maxInboundDataLength: 1 << 20,
});
await node.start();
for (const topic of topics) node.services.pubsub.subscribe(topic);
out({ ev: 'ready', addrs: node.getMultiaddrs().map(String) });

const encode = (value: object): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** As fast as it can: every publish is started at once (each signs at once, the sends queue). */
async function flood(count: number, item: string): Promise<void> {
  const started = wallMonotonic();
  const sends: Array<Promise<unknown>> = [];
  for (let i = 0; i < count; i++) {
    const envelope = { schema: GOSSIP_SCHEMA, run: config.run, node: config.node, id: systemIds.ulid(), sentAt: systemClock.now() };
    // Half progress, half `released` (an event that wakes a node's scheduler).
    const [topic, body] = i % 2 === 0
      ? [topics[0]!, { ...envelope, type: 'progress', state: 'working', items: [{ item, headBlock: i, blocksPerSecond: 1 }] }]
      : [topics[1]!, { ...envelope, type: 'event', event: 'released', item }];
    sends.push(node.services.pubsub.publish(topic, encode(body)).catch(() => undefined));
  }
  await Promise.all(sends);
  out({ ev: 'flooded', count, ms: Math.round(wallMonotonic() - started) });
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as FlooderCommand;
  if (command.cmd === 'dial') {
    for (const address of command.addrs) await node.dial(multiaddr(address));
    while (node.services.pubsub.getSubscribers(topics[1]!).length < command.addrs.length) await systemClock.sleep(50);
    out({ ev: 'dialled' });
  } else if (command.cmd === 'flood') {
    await flood(command.count, command.item);
  } else {
    await node.stop();
    process.exit(0);
  }
}
