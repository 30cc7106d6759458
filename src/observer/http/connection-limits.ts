/**
 * Caps on the observer's HTTP connections (issue 19: 20 event-stream
 * clients that never read grew the observer from 141 to 538 MiB). With
 * the per-stream buffer bound (event-streams.ts) these make the memory a
 * slow or hostile client can pin bounded: at most `maxConnections` times
 * `maxBufferedBytes` of unsent event data, and one address cannot take all
 * the connections.
 *
 * - Over `maxConnections` (all addresses): the socket is closed at once by
 *   node (`server.maxConnections`), before any byte is read.
 * - Over `maxConnectionsPerAddress`: the request gets a one-line 503 and the
 *   connection is closed; a socket that sends no request is closed after
 *   `REJECT_GRACE_MS`. Behind a reverse proxy every client has the proxy's
 *   address: raise the cap there (docs/observer.md).
 *
 * Each is logged once per address per streak (until that address has no
 * refused connection open), not per connection.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../../util/logger.js';

export interface ConnectionLimits {
  /** Open HTTP connections in all (event streams included). */
  maxConnections: number;
  /** Open HTTP connections from one remote address. */
  maxConnectionsPerAddress: number;
  /** Unsent bytes an event-stream client may have before it is dropped. */
  maxBufferedBytes: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 256,
  maxConnectionsPerAddress: 32,
  maxBufferedBytes: 1024 * 1024,
};

const REJECT_GRACE_MS = 2_000;

export class ConnectionGate {
  private readonly perAddress = new Map<string, number>();
  private readonly refused = new WeakSet<Socket>();
  private readonly warned = new Set<string>();
  private open = 0;
  private rejectedTotal = 0;

  constructor(private readonly limits: Pick<ConnectionLimits, 'maxConnections' | 'maxConnectionsPerAddress'>, private readonly logger: Logger) {}

  attach(server: Server): void {
    server.maxConnections = this.limits.maxConnections;
    server.on('drop', (data?: { remoteAddress?: string }) => {
      this.rejectedTotal += 1;
      this.warnOnce('*', { remote: data?.remoteAddress, limit: this.limits.maxConnections }, 'observer refused a connection: --max-connections reached');
    });
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /** True when the request came on a connection over the per-address cap (it gets a 503, then the connection closes). */
  isRefused(socket: Socket): boolean {
    return this.refused.has(socket);
  }

  stats(): { connections: number; rejectedConnections: number } {
    return { connections: this.open, rejectedConnections: this.rejectedTotal };
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const count = this.perAddress.get(address) ?? 0;
    if (count >= this.limits.maxConnectionsPerAddress) {
      this.rejectedTotal += 1;
      this.refused.add(socket);
      this.warnOnce(address, { remote: address, limit: this.limits.maxConnectionsPerAddress }, 'observer refused a connection: --max-connections-per-address reached for this address');
      socket.setTimeout(REJECT_GRACE_MS, () => socket.destroy());
      return;
    }
    this.perAddress.set(address, count + 1);
    this.open += 1;
    socket.once('close', () => {
      this.open -= 1;
      const left = (this.perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.perAddress.set(address, left);
      else this.perAddress.delete(address);
      // Below the cap again: the next refusal is news.
      if (left < this.limits.maxConnectionsPerAddress) this.warned.delete(address);
      if (this.open < this.limits.maxConnections) this.warned.delete('*');
    });
  }

  private warnOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.warned.has(key)) return;
    // Bounded: a flood from many addresses must not grow this set without limit.
    if (this.warned.size >= 1_000) this.warned.clear();
    this.warned.add(key);
    this.logger.warn(fields, message);
  }
}
