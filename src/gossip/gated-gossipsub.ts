import { GossipSub, type GossipsubOpts } from '@chainsafe/libp2p-gossipsub';
import type { RPC } from '@chainsafe/libp2p-gossipsub/message';
import type { PeerId } from '@libp2p/interface';

/** What looks at each RPC before gossipsub does. */
export interface RpcGate {
  /** The messages that may go on to gossipsub's validation (InboundGate). */
  admit(peer: string, messages: RPC.Message[]): RPC.Message[];
  /** A promise to await before handling the RPC, when the event loop is owed a turn (LoopSlicer). */
  pause?(): Promise<void> | undefined;
}

type Components = ConstructorParameters<typeof GossipSub>[0];

/**
 * Gossipsub with a gate in front of its message handling. `handleReceivedRpc`
 * is gossipsub's public entry for each decoded RPC, called with the peer that
 * sent it; it is the last point before per-message work (signature checks)
 * starts, and the earliest that knows the peer. Subscriptions and control
 * messages pass untouched: only the messages are screened. With
 * `awaitRpcHandler`, a pause here also holds back reading the peer's next RPC.
 */
class GatedGossipSub extends GossipSub {
  readonly #gate: RpcGate;

  constructor(components: Components, init: Partial<GossipsubOpts>, gate: RpcGate) {
    super(components, init);
    this.#gate = gate;
  }

  override async handleReceivedRpc(from: PeerId, rpc: RPC): Promise<void> {
    const pause = this.#gate.pause?.();
    if (pause) await pause;
    if (rpc.messages.length > 0) rpc.messages = this.#gate.admit(from.toString(), rpc.messages);
    return super.handleReceivedRpc(from, rpc);
  }
}

export function gatedGossipsub(init: Partial<GossipsubOpts>, gate: RpcGate): (components: Components) => GossipSub {
  return (components) => new GatedGossipSub(components, init, gate);
}

/**
 * Gossipsub's `fastMsgIdFn`: with StrictSign a message's id is its author and
 * sequence number, both readable before the signature is checked, so a copy
 * relayed by a second peer is recognised as a duplicate without verifying
 * its signature again (gossipsub records the id only after a message
 * verified, so a forgery cannot shadow the real one).
 */
export function fastMessageId(message: RPC.Message): string {
  return `${bytes64(message.from)}.${bytes64(message.seqno)}`;
}

function bytes64(value: Uint8Array | undefined): string {
  return value ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') : '';
}
