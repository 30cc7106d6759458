import '../util/promise-shim.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { bootstrap } from '@libp2p/bootstrap';
import { identify } from '@libp2p/identify';
import { preSharedKey } from '@libp2p/pnet';
import { tcp } from '@libp2p/tcp';
import type { ConnectionGater, PrivateKey } from '@libp2p/interface';
import { createLibp2p } from 'libp2p';
import { fastMessageId, gatedGossipsub, type RpcGate } from './gated-gossipsub.js';

export interface Libp2pNodeOptions {
  privateKey: PrivateKey;
  listen: string[];
  announce: string[];
  /** A pnet v1 key file's bytes (readSwarmKey); absent for an open network. */
  swarmKey?: Uint8Array;
  /** Multiaddrs with `/p2p/<id>` dialled at start by @libp2p/bootstrap. */
  bootstrap: string[];
  /** The only topics this node accepts (its run's). */
  topics: string[];
  gater: ConnectionGater;
  /** Gossipsub's reader refuses RPC frames above this (and drops the peer's streams); the gate drops smaller oversized messages and counts them. */
  maxInboundDataLength: number;
  /** Screens each RPC's messages before gossipsub's validation (InboundGate); none lets everything through. */
  gate?: RpcGate;
}

const OPEN_GATE: RpcGate = { admit: (_peer, messages) => messages };

/**
 * Builds (does not start) the libp2p node: TCP, noise, yamux, identify and
 * gossipsub with signed messages. A fresh options object per call matters:
 * createLibp2p writes the private key into the object it is given, so
 * sharing one between nodes would give them one peer id.
 */
export async function createLibp2pNode(options: Libp2pNodeOptions) {
  return createLibp2p({
    start: false,
    privateKey: options.privateKey,
    addresses: { listen: [...options.listen], announce: [...options.announce] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(options.swarmKey ? { connectionProtector: preSharedKey({ psk: options.swarmKey }) } : {}),
    connectionGater: options.gater,
    peerDiscovery: options.bootstrap.length > 0 ? [bootstrap({ list: [...options.bootstrap] })] : [],
    services: {
      // gossipsub needs identify (UnmetServiceDependenciesError otherwise).
      identify: identify(),
      pubsub: gatedGossipsub({
        // Every node must use the same policy; with StrictNoSign identical
        // payloads would be deduplicated as one message.
        globalSignaturePolicy: 'StrictSign',
        // Publishing before the mesh forms must not throw: progress is
        // latest-state and re-published, events are hints.
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        allowedTopics: [...options.topics],
        maxInboundDataLength: options.maxInboundDataLength,
        // Read a peer's next RPC only once the last one was handled, so the gate's pause holds the reader back
        // (a flood then waits in the peer's stream window instead of the event loop).
        awaitRpcHandler: true,
        // Duplicates (the same message relayed by several peers) are dropped before their signature is checked again.
        fastMsgIdFn: fastMessageId,
      }, options.gate ?? OPEN_GATE),
    },
  });
}

export type Libp2pNode = Awaited<ReturnType<typeof createLibp2pNode>>;
