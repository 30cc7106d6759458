/**
 * The observer's HTTP server (node:http, no framework). Binds 127.0.0.1
 * unless told otherwise. When bound to a loopback address it also refuses
 * requests whose Host header names anything but a loopback name, so a web
 * page elsewhere cannot read the view through DNS rebinding. Connections
 * and each event stream's unsent data are capped (connection-limits.ts,
 * event-streams.ts); a store that does not answer is a 503 naming it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StoreError } from '../../store/errors.js';
import type { Logger } from '../../util/logger.js';
import { oneLine } from '../store-trouble.js';
import { ConnectionGate, DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './connection-limits.js';
import { EventStreams, type EventStreamStats } from './event-streams.js';
import { send, sendText } from './respond.js';
import { route, type RouteContext } from './routes.js';
import { loadStaticFiles } from './static-files.js';

export interface ObserverServerOptions extends Omit<RouteContext, 'staticFiles' | 'streams' | 'httpStats'> {
  host: string;
  port: number;
  logger: Logger;
  /** Defaults: DEFAULT_CONNECTION_LIMITS. */
  limits?: Partial<ConnectionLimits>;
}

export interface ObserverHttpStats extends EventStreamStats {
  /** HTTP connections open now (refused ones not counted). */
  connections: number;
  /** Connections refused by the caps, since start. */
  rejectedConnections: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export class ObserverServer {
  private server: Server | undefined;
  private starting: Promise<string> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly gate: ConnectionGate;
  private readonly streams: EventStreams;

  constructor(private readonly options: ObserverServerOptions) {
    const limits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };
    this.gate = new ConnectionGate(limits, options.logger);
    this.streams = new EventStreams({ maxBufferedBytes: limits.maxBufferedBytes, logger: options.logger });
  }

  /** Connections and event streams now (also on /metrics). */
  stats(): ObserverHttpStats {
    return { ...this.gate.stats(), ...this.streams.stats() };
  }

  /** Listens; resolves with the base URL (http://host:port). Idempotent. */
  start(): Promise<string> {
    this.starting ??= this.listen();
    return this.starting;
  }

  get url(): string | undefined {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return undefined;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Closes the listener and every open stream; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.starting?.catch(() => {});
      const server = this.server;
      if (!server) return;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    })();
    return this.stopping;
  }

  private async listen(): Promise<string> {
    const context: RouteContext = { ...this.options, staticFiles: await loadStaticFiles(), streams: this.streams, httpStats: () => this.stats() };
    const loopbackOnly = LOOPBACK_HOSTS.has(this.options.host) || this.options.host.startsWith('127.');
    const server = createServer((req, res) => {
      if (this.gate.isRefused(req.socket)) {
        send(res, 503, 'text/plain; charset=utf-8', 'too many connections from your address (the observer\'s --max-connections-per-address); close some and retry\n', { connection: 'close' });
        return;
      }
      // Only origin-form targets (`/path`): an absolute-form one (`GET http://other/`) would name a host the Host check never sees.
      if (!req.url?.startsWith('/')) {
        sendText(res, 'the observer takes request targets of the form /path only\n', 400);
        return;
      }
      if (loopbackOnly && !isLoopbackHost(req.headers.host)) {
        sendText(res, 'this observer answers only to 127.0.0.1 or localhost (start it with --host to serve other names)\n', 421);
        return;
      }
      route(context, req, res).catch((error: unknown) => {
        // A store that does not answer is not the observer failing: say which, in one line.
        const store = error instanceof StoreError;
        if (store) this.options.logger.debug({ err: error, url: req.url }, 'observer request: the store did not answer');
        else this.options.logger.warn({ err: error, url: req.url }, 'observer request failed');
        if (res.headersSent) res.destroy();
        else if (store) sendText(res, `the store does not answer: ${oneLine(error)}; the observer keeps retrying\n`, 503);
        else sendText(res, 'internal error; see the observer log\n', 500);
      });
    });
    this.gate.attach(server);
    server.keepAliveTimeout = 5_000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return this.url!;
  }
}

/** A whole Host header naming a loopback host, with an optional port; anything else (`localhost:1@evil`, no header) is not. */
function isLoopbackHost(header: string | undefined): boolean {
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i.exec(header ?? '');
  if (!match) return false;
  const host = match[1]!.toLowerCase();
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}
