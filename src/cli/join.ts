import { hostname } from 'node:os';
import { join as joinPath, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { createGossip } from '../gossip/libp2p-gossip.js';
import { isValidName } from '../layout/keys.js';
import { readManifest } from '../manifest/read-manifest.js';
import { countRequests } from '../store/counting-store.js';
import { ALL_NODES } from '../records/control-record.js';
import { ReplayNode, type NodeExit } from '../node/replay-node.js';
import { requestTimeLimits, resolveNodeSettings } from '../node/settings.js';
import { StoreHealth } from '../node/store-health.js';
import { assertStoreSafe } from '../store/probe.js';
import { createRunner, RUNNER_NAMES } from '../runner/create-runner.js';
import type { DataDirLock } from '../runner/nodeos/data-dir-lock.js';
import { RunnerConfigError } from '../runner/runner-config-error.js';
import { SystemClock } from '../time/system-clock.js';
import { systemIds } from '../util/ids.js';
import { createLogger } from '../util/logger.js';
import { takeDataDir } from './data-dir.js';
import { UserError } from './describe-error.js';
import { addGossipOptions, resolveGossipFlags, type GossipFlags } from './gossip-options.js';
import { integerOption, userErrors } from './manifest/cli-support.js';
import { checkRunId } from './manifest/publish-run.js';
import { withStore } from './manifest/store-option.js';
import { durationOption, hostPortOption, logLevelOption, resolveLogLevel } from './option-rules.js';
import { foreignToLog } from './store-flag.js';
import { version } from './version.js';
import { onStopSignals } from './stop-signals.js';
import { messageOf } from '../util/message-of.js';

interface JoinFlags extends GossipFlags {
  store: string;
  run: string;
  node?: string;
  runner: string;
  concurrency: number;
  exitWhenDone?: boolean;
  dataDir?: string;
  logLevel?: string;
  simSpeed?: number;
  simStepMs?: number;
  simStartupMs?: number;
  simFaults?: string;
  nodeosBin?: string;
  nodeosConfig?: string;
  p2pPeer?: string[];
  blockLogs?: boolean;
  genesisJson?: string;
  stallTimeoutMs?: number;
  loadTimeoutMs?: number;
  stopHashTimeoutMs?: number;
  cacheDir?: string;
  heartbeatMs?: number;
  idleScanMs?: number;
  controlPollMs?: number;
}

const collectPeers = (value: string, previous: string[] = []): string[] => [...previous, hostPortOption(value)];
const hidden = (flags: string, description: string, parse?: (v: string) => unknown): Option => {
  const option = new Option(flags, description).hideHelp();
  return parse ? option.argParser(parse) : option;
};

/** `replay-node join`: this host works on a run until it is done, drained or stopped. */
export function joinCommand(): Command {
  const command = new Command('join')
    .summary('work on a run: claim intervals through leases, replay them, write results')
    .description(
      'Join a run as a replay node. The node claims items of the run through lease objects in the store, replays them ' +
        'with its runner (nodeos, or the simulated chain), and writes immutable results. Any number of nodes may join, ' +
        'on any hosts that reach the store; they need no coordinator. SIGTERM/SIGINT stop gracefully (leases are ' +
        'released so others take them at once); a second signal forces.',
    )
    .requiredOption('--store <url>', 'the shared store (s3://bucket/prefix?..., file:///dir or a directory)')
    .requiredOption('--run <run>', 'the run to work on (published with replay-manifest)')
    .option('--node <id>', 'this node\'s id in the run (default: host name and a random suffix)')
    .addOption(new Option('--runner <name>', 'what replays an item').choices(RUNNER_NAMES).default('nodeos'))
    .option('--concurrency <n>', 'items worked on at once', integerOption(1), 1)
    .option('--exit-when-done', 'exit 0 once every item has a result or has failed for good')
    .option('--data-dir <dir>', 'working directory: gossip identity, nodeos state and caches (default ./.replay/nodes/<node>)')
    .option('--log-level <level>', 'trace, debug, info, warn or error (default info; env LOG_LEVEL)', logLevelOption)
    .option('--sim-speed <blocks-per-second>', 'sim runner: replay speed (0: instant)', integerOption(0))
    .option('--sim-step-ms <ms>', 'sim runner: progress step', durationOption(1))
    .option('--sim-startup-ms <ms>', 'sim runner: simulated snapshot load time', durationOption(0))
    .option('--sim-faults <json>', 'sim runner: injected faults (docs/runners.md; env REPLAY_SIM_FAULTS)')
    .option('--nodeos-bin <path>', 'nodeos runner: use this nodeos instead of the manifest\'s artifact')
    .option('--nodeos-config <file>', 'nodeos runner: config.ini whose keys replace the template\'s')
    .addOption(new Option('--p2p-peer <host:port>', 'nodeos runner: a p2p peer to sync blocks from, repeatable').argParser(collectPeers))
    .option('--block-logs', 'nodeos runner: fetch the block-log stride file covering each start block from the store')
    .option('--genesis-json <file>', 'nodeos runner: genesis.json for items that start at block 0')
    .option('--stall-timeout-ms <ms>', 'nodeos runner: fail an attempt after this long replaying without head progress (default 20 min)', durationOption(1))
    .option('--load-timeout-ms <ms>', 'nodeos runner: fail an attempt after nodeos is silent this long loading the snapshot (default 2 h)', durationOption(1))
    .option('--stop-hash-timeout-ms <ms>', 'nodeos runner: fail an attempt after nodeos is silent this long computing the stop hash at END (default 1 h)', durationOption(1))
    .option('--cache-dir <dir>', 'nodeos runner: installed nodeos and decompressed snapshots (default <data-dir>/cache)')
    .addOption(hidden('--heartbeat-ms <ms>', 'node record rewrite period (default ttl/3)', durationOption(1)))
    .addOption(hidden('--idle-scan-ms <ms>', 'rescan period with nothing to claim', durationOption(1)))
    .addOption(hidden('--control-poll-ms <ms>', 'control/ poll period', durationOption(1)));
  return addGossipOptions(command).action(userErrors(join));
}

async function join(flags: JoinFlags): Promise<void> {
  const ids = systemIds;
  const node = flags.node ?? defaultNodeId(ids.random);
  if (!isValidName(node) || node === ALL_NODES) {
    throw new UserError(`--node ${JSON.stringify(node)} is not a usable node id; use letters, digits, '.', '_' or '-' (not "${ALL_NODES}")`);
  }
  checkRunId(flags.run);
  const level = resolveLogLevel(flags.logLevel);
  const gossipSettings = await resolveGossipFlags(flags);
  const dataDir = resolve(flags.dataDir ?? joinPath('.replay', 'nodes', node));
  // REPLAY_TEST_CLOCK_SKEW_MS: a test hook that makes this host's wall clock wrong (durations are unaffected).
  const clock = new SystemClock(Number(process.env.REPLAY_TEST_CLOCK_SKEW_MS ?? 0));
  const logger = createLogger({ name: 'replay-node', ...(level ? { level } : {}) });
  // First, before the store or anything in the data directory is touched: a second join on the
  // same directory (the same --node, by default) refuses here, naming the first (src/cli/data-dir.ts).
  const dataDirLock = await takeDataDir(dataDir, { clock, logger });
  // Signals are handled from the start: one that comes before the node exists (probing the store,
  // installing nodeos) means "do not join"; after, a graceful stop.
  const late: { node?: ReplayNode; signal?: string; halt: AbortController } = { halt: new AbortController() };
  const removeSignals = onStopSignals(async (signal) => {
    late.signal = signal;
    late.halt.abort();
    await late.node?.stop(`signal ${signal}`);
  }, logger);
  try {
    await joinRun(flags, { node, dataDir, dataDirLock, clock, ids, logger, gossipSettings, late });
  } finally {
    removeSignals();
    await dataDirLock.release();
  }
}

interface JoinContext {
  node: string;
  dataDir: string;
  dataDirLock: DataDirLock;
  clock: SystemClock;
  ids: typeof systemIds;
  logger: ReturnType<typeof createLogger>;
  gossipSettings: Awaited<ReturnType<typeof resolveGossipFlags>>;
  late: { node?: ReplayNode; signal?: string; halt: AbortController };
}

/** While the store does not answer at start-up, the longest pause between two tries. */
const START_RETRY_MAX_MS = 5_000;
/** Before the run's lease TTL is known: how long one start-up request (probe, manifest) may go unanswered. */
const START_REQUEST_TIMEOUT_MS = 5_000;

async function joinRun(flags: JoinFlags, { node, dataDir, dataDirLock, clock, ids, logger, gossipSettings, late }: JoinContext): Promise<void> {
  await withStore(flags.store, { probe: false, onForeign: foreignToLog(logger) }, async (opened) => {
    // A store that does not answer yet (a brownout, 503 SlowDown) is waited for, as the node waits
    // for it later; an unsafe store, wrong credentials or a missing run end the start at once.
    const health = new StoreHealth({ clock, ids, logger, maxDelayMs: START_RETRY_MAX_MS });
    // Until the manifest says the run's TTL, small requests that go unanswered give up after a few seconds,
    // not the 30 s socket default (a restarted host otherwise waits that long per lost answer in its probe).
    opened.limitRequestTime?.({ conditionalWriteMs: START_REQUEST_TIMEOUT_MS, otherMs: START_REQUEST_TIMEOUT_MS });
    const signal = late.halt.signal;
    const probe = await health.untilAnswered('checking the store', () => assertStoreSafe(opened, { clock, ids }), signal);
    // Counted from here on (the probe aside): the node reports its store requests when it stops.
    const store = countRequests(opened);
    const stored = probe && (await health.untilAnswered('reading the manifest', () => readManifest(store, flags.run), signal));
    if (!stored) {
      process.stderr.write(`replay-node: stopped by ${late.signal ?? 'a signal'} before joining\n`);
      return;
    }
    const { manifest } = stored;
    checkSettings(flags, manifest.defaults.leaseTtlMs, gossipSettings !== undefined);
    // Request timeouts follow the run's lease TTL (never above the URL's own timeoutMs).
    store.limitRequestTime?.(requestTimeLimits(manifest.defaults.leaseTtlMs));
    let runner;
    try {
      runner = createRunner(flags.runner, {
        sim: {
          ...(flags.simSpeed === undefined ? {} : { blocksPerSecond: flags.simSpeed }),
          ...(flags.simStepMs === undefined ? {} : { stepMs: flags.simStepMs }),
          ...(flags.simStartupMs === undefined ? {} : { startupMs: flags.simStartupMs }),
          ...(flags.simFaults === undefined ? {} : { faults: flags.simFaults }),
        },
        nodeos: {
          dataDir,
          dataDirLock,
          ...(flags.nodeosBin ? { nodeosBin: flags.nodeosBin } : {}),
          ...(flags.nodeosConfig ? { configFile: flags.nodeosConfig } : {}),
          ...(flags.p2pPeer ? { p2pPeers: flags.p2pPeer } : {}),
          ...(flags.blockLogs ? { blockLogs: true } : {}),
          ...(flags.genesisJson ? { genesisJson: flags.genesisJson } : {}),
          ...(flags.stallTimeoutMs ? { stallTimeoutMs: flags.stallTimeoutMs } : {}),
          ...(flags.loadTimeoutMs ? { loadTimeoutMs: flags.loadTimeoutMs } : {}),
          ...(flags.stopHashTimeoutMs ? { stopHashTimeoutMs: flags.stopHashTimeoutMs } : {}),
          ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
        },
      }, { clock, logger, nodeId: node, store, manifest });
    } catch (error) {
      if (error instanceof RunnerConfigError) throw new UserError(error.message);
      throw error;
    }
    // Gossip is built first (the node publishes its peer id); it reaches the node through `late`.
    const gossip = gossipSettings
      ? await createGossip({
          run: manifest.run, node, dataDir, clock, ids, logger,
          listen: gossipSettings.listen, announce: gossipSettings.announce, bootstrap: gossipSettings.bootstrap,
          ...(gossipSettings.swarmKey ? { swarmKey: gossipSettings.swarmKey } : {}),
          onStranger: () => late.node?.peersChanged(),
        })
      : undefined;
    const replayNode = new ReplayNode(
      { store, clock, ids, logger, runner, ...(gossip ? { gossip } : {}), host: hostname(), pid: process.pid, version },
      {
        run: manifest.run, node, manifest, manifestEtag: stored.etag,
        settings: {
          concurrency: flags.concurrency, exitWhenDone: Boolean(flags.exitWhenDone),
          heartbeatMs: flags.heartbeatMs, idleScanMs: flags.idleScanMs, controlPollMs: flags.controlPollMs,
        },
      },
    );
    if (late.signal) {
      await gossip?.stop();
      await runner.close();
      process.stderr.write(`replay-node: stopped by ${late.signal} before joining\n`);
      return;
    }
    late.node = replayNode;
    try {
      await replayNode.start();
    } catch (error) {
      await replayNode.stop(`start-up failed: ${messageOf(error)}`);
      if (error instanceof RunnerConfigError) throw new UserError(error.message);
      throw error;
    }
    const exit = await replayNode.exited;
    logger.info({ requests: store.counters, ...replayNode.stats }, 'node totals');
    reportExit(exit);
  });
}

/**
 * The node's settings against the run's TTL (a heartbeat must be shorter
 * than it), checked before anything starts: a refusal is about the flags,
 * so one line and exit 2, not a RangeError.
 */
function checkSettings(flags: JoinFlags, leaseTtlMs: number, gossip: boolean): void {
  try {
    resolveNodeSettings(leaseTtlMs, gossip, { heartbeatMs: flags.heartbeatMs, idleScanMs: flags.idleScanMs, controlPollMs: flags.controlPollMs });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new UserError(`${error.message} with this run's lease TTL of ${leaseTtlMs} ms; change --heartbeat-ms, --idle-scan-ms or --control-poll-ms`);
  }
}

function reportExit(exit: NodeExit): void {
  if (exit.reason === 'error') throw new UserError(`node stopped on an error: ${exit.detail ?? 'unknown'}; see the log above`, 1);
  process.stderr.write(`replay-node: ${exit.reason}${exit.detail && exit.detail !== exit.reason ? ` (${exit.detail})` : ''}\n`);
}

/** `<host>-<4 base36 chars>`: readable in listings, unique enough per start. */
function defaultNodeId(random: () => number): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 40) || 'node';
  const suffix = Array.from({ length: 4 }, () => Math.floor(random() * 36).toString(36)).join('');
  return `${host}-${suffix}`;
}
