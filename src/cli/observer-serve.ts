import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createGossip } from '../gossip/index.js';
import { isValidName } from '../layout/keys.js';
import { DEFAULT_CONNECTION_LIMITS } from '../observer/http/connection-limits.js';
import { ObserverServer } from '../observer/http/server.js';
import { Observer } from '../observer/observer.js';
import { attachGossip } from '../observer/run-gossip.js';
import { countRequests } from '../store/counting-store.js';
import { foreignToLog, openStoreFlag } from './store-flag.js';
import { systemClock } from '../time/system-clock.js';
import { systemIds } from '../util/ids.js';
import { createLogger } from '../util/logger.js';
import { UserError } from './describe-error.js';
import { addGossipOptions, resolveGossipFlags, type GossipFlags } from './gossip-options.js';
import { checkRunId } from './manifest/publish-run.js';
import { durationOption, hostOption, resolveLogLevel } from './option-rules.js';
import { onStopSignals } from './stop-signals.js';
import { version } from './version.js';

interface ServeFlags extends GossipFlags {
  store: string;
  run?: string[];
  host: string;
  port: number;
  id?: string;
  dataDir: string;
  resyncMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxBufferedBytes: number;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function tcpPort(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65535) throw new InvalidArgumentError('It must be a TCP port, 0-65535 (0: any free port).');
  return parsed;
}

function atLeast(min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < min) throw new InvalidArgumentError(`It must be a whole number >= ${min}.`);
    return parsed;
  };
}

/** `replay-observer serve`: the live status pages, JSON API, event stream and metrics. */
export function serveCommand(): Command {
  const command = new Command('serve')
    .summary('serve the live status pages, JSON API, event stream and metrics')
    .description(
      'Serve a live, read-only view of one run (--run) or of every run in the store: pages, a JSON API, server-sent events and ' +
        'Prometheus /metrics (docs/observer.md). Built from the store at start, re-synced from it periodically, live from gossip. ' +
        'Binds 127.0.0.1 unless --host says otherwise. Its only write is its presence record under runs/<run>/observers/ (with gossip on). ' +
        'SIGTERM/SIGINT stop it (the presence record is deleted).',
    )
    .requiredOption('--store <url>', 'the shared store')
    .option('--run <run>', 'observe only this run (repeatable); default: every run in the store', collect)
    .option('--host <address>', 'address to bind the HTTP server to', hostOption, '127.0.0.1')
    .option('--port <port>', 'HTTP port (0: any free port)', tcpPort, 7070)
    .option('--id <id>', 'this observer\'s id (its presence record and gossip name); default observer-<host>')
    .option('--data-dir <dir>', 'where the gossip identities live', '.replay/observer')
    .option('--resync-ms <ms>', 'full re-read from the store every this many ms', durationOption(1000), 30_000)
    .option('--max-connections <n>', 'open HTTP connections in all, event streams included', atLeast(1), DEFAULT_CONNECTION_LIMITS.maxConnections)
    .option('--max-connections-per-address <n>', 'open HTTP connections from one address (raise it behind a reverse proxy)', atLeast(1), DEFAULT_CONNECTION_LIMITS.maxConnectionsPerAddress)
    .option('--max-buffered-bytes <bytes>', 'an event-stream client with more unsent data than this is dropped', atLeast(64 * 1024), DEFAULT_CONNECTION_LIMITS.maxBufferedBytes);
  return addGossipOptions(command).action(async (flags: ServeFlags) => {
    const runs = flags.run?.map((run) => checkRunId(run));
    const observerId = flags.id ?? defaultObserverId();
    if (!isValidName(observerId)) throw new UserError(`--id ${JSON.stringify(observerId)} is not a valid id; use letters, digits, ".", "_" and "-"`);
    const gossipSettings = await resolveGossipFlags(flags);
    const level = resolveLogLevel(undefined);
    const logger = createLogger({ name: 'replay-observer', ...(level ? { level } : {}) });
    const clock = systemClock;
    const store = countRequests(openStoreFlag(flags.store, { clock, ids: systemIds, onForeign: foreignToLog(logger) }));
    const observer = new Observer({
      store, clock, logger, observer: observerId,
      ...(runs ? { runs } : {}),
      live: { resyncMs: flags.resyncMs },
      ...(gossipSettings
        ? {
            attach: (live) => attachGossip(live, {
              store, clock, ids: systemIds, logger, observer: observerId, dataDir: resolve(flags.dataDir),
              gossip: {
                listen: gossipSettings.listen, announce: gossipSettings.announce, bootstrap: gossipSettings.bootstrap,
                ...(gossipSettings.swarmKey ? { swarmKey: gossipSettings.swarmKey } : {}),
              },
              heartbeatMs: 5_000, staleAfterMs: 15_000, host: hostname(), version, createGossip,
            }),
          }
        : {}),
    });
    const server = new ObserverServer({
      observer, clock, host: flags.host, port: flags.port, logger,
      limits: { maxConnections: flags.maxConnections, maxConnectionsPerAddress: flags.maxConnectionsPerAddress, maxBufferedBytes: flags.maxBufferedBytes },
      storeRequests: () => store.counters,
      gossipCounters: (run) => observer.gossipCounters(run),
    });
    let url: string;
    try {
      url = await server.start();
    } catch (error) {
      await store.close();
      throw listenError(error, flags.host, flags.port);
    }
    observer.start();
    process.stdout.write(`replay-observer: serving ${store.description} on ${url}\n`);
    logger.info({ url, store: store.description, runs: runs ?? 'all', gossip: Boolean(gossipSettings) }, 'observer listening');
    let done!: () => void;
    const stopped = new Promise<void>((r) => (done = r));
    const removeSignals = onStopSignals(async () => {
      await server.stop();
      await observer.stop();
      await store.close();
      done();
    }, logger);
    await stopped;
    removeSignals();
  });
}

function listenError(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return new UserError(`cannot listen on ${host}:${port}: the port is in use; pick another --port (0: any free port)`);
  if (code === 'EADDRNOTAVAIL') return new UserError(`cannot listen on ${host}:${port}: no such address on this host; check --host`);
  // A well-formed --host that does not resolve (option-rules.ts checked the form).
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UserError(`cannot listen on ${host}:${port}: the host name does not resolve (${code}); check --host, or give an IP address`);
  if (code === 'EACCES') return new UserError(`cannot listen on ${host}:${port}: permission denied; use a port above 1023`);
  return error;
}

function defaultObserverId(): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 40) || 'host';
  return `observer-${host}`;
}
