import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { GossipAddressError } from './errors.js';
import { messageOf } from '../util/message-of.js';

/** Parses a user-given multiaddr (--listen, --announce); one-line error naming it otherwise. */
export function parseAddress(text: string): Multiaddr {
  try {
    return multiaddr(text);
  } catch (error) {
    throw new GossipAddressError(text, `not a multiaddr (${messageOf(error)}); e.g. /ip4/0.0.0.0/tcp/4001`);
  }
}

/** A --bootstrap address must name the peer, so the connection gater can let it in. */
export function bootstrapPeerId(text: string): string {
  const peerId = parseAddress(text).getPeerId();
  if (!peerId) throw new GossipAddressError(text, 'a bootstrap address needs /p2p/<peer id> at the end');
  return peerId;
}

/** The address with `/p2p/<peerId>` appended unless it already names a peer. */
export function withPeerId(address: string, peerId: string): Multiaddr | undefined {
  try {
    const parsed = multiaddr(address);
    const named = parsed.getPeerId();
    if (named === null) return parsed.encapsulate(`/p2p/${peerId}`);
    return named === peerId ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** `--p2p-port N` as the default listen address on all interfaces. */
export function listenOnPort(port: number): string {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new GossipAddressError(String(port), 'port must be 0-65535');
  return `/ip4/0.0.0.0/tcp/${port}`;
}
