/**
 * A pre-shared key mismatch never says so: each side decrypts the other's
 * bytes into garbage, and the dial fails inside the security handshake with
 * a generic error ("unexpected end of input", a decrypt error) or simply
 * hangs until the dial times out. What identifies it is where it failed: the
 * TCP connection was open and the encryption step had started.
 *
 * Returns the log message for the operator, or undefined when the failure is
 * something else (refused, unreachable, another peer at that address).
 */
export const ENCRYPT_STEP = 'upgrader:encrypt-outbound-connection';

export function describeHandshakeFailure(error: unknown, reachedEncryption: boolean, haveSwarmKey: boolean): string | undefined {
  if (!reachedEncryption) return undefined;
  // A different peer answering at a recorded address (a stale record whose port was reused) fails here too, with its own error.
  if (errorChain(error).some((e) => /UnexpectedPeer|peer ?id/i.test(`${e.name} ${e.message}`))) return undefined;
  return haveSwarmKey
    ? 'gossip handshake failed: swarm key mismatch? (every node of the run needs the same --swarm-key file)'
    : 'gossip handshake failed: swarm key mismatch? (the peer may use --swarm-key; this node has none)';
}

function errorChain(error: unknown): Error[] {
  const chain: Error[] = [];
  let current: unknown = error;
  while (current instanceof Error && chain.length < 8) {
    chain.push(current);
    if (current instanceof AggregateError) chain.push(...current.errors.filter((e): e is Error => e instanceof Error));
    current = current.cause;
  }
  return chain;
}
