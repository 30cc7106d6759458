/**
 * The observer's HTTP server (node:http, no framework). Binds 127.0.0.1
 * unless told otherwise. When bound to a loopback address it also refuses
 * requests whose Host header names anything but a loopback name, so a web
 * page elsewhere cannot read the view through DNS rebinding.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../util/logger.js';
import { sendText } from './respond.js';
import { route, type RouteContext } from './routes.js';
import { loadStaticFiles } from './static-files.js';

export interface ObserverServerOptions extends Omit<RouteContext, 'staticFiles'> {
  host: string;
  port: number;
  logger: Logger;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export class ObserverServer {
  private server: Server | undefined;
  private starting: Promise<string> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: ObserverServerOptions) {}

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
    const context: RouteContext = { ...this.options, staticFiles: await loadStaticFiles() };
    const loopbackOnly = LOOPBACK_HOSTS.has(this.options.host) || this.options.host.startsWith('127.');
    const server = createServer((req, res) => {
      if (loopbackOnly && !isLoopbackHost(req.headers.host)) {
        sendText(res, 'this observer answers only to 127.0.0.1 or localhost (start it with --host to serve other names)\n', 421);
        return;
      }
      route(context, req, res).catch((error: unknown) => {
        this.options.logger.warn({ err: error, url: req.url }, 'observer request failed');
        if (!res.headersSent) sendText(res, 'internal error; see the observer log\n', 500);
        else res.destroy();
      });
    });
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

function isLoopbackHost(header: string | undefined): boolean {
  if (!header) return false;
  const host = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0]!;
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}
