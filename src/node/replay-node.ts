import { runKeys } from '../layout/keys.js';
import { ExpiryJudge } from '../lease/expiry.js';
import { giveBackLease } from '../lease/with-lease.js';
import { manifestItems } from '../manifest/items.js';
import type { Manifest } from '../manifest/manifest.js';
import type { Runner, RunnerProgress } from '../runner/runner.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import { Ticker, within } from '../time/ticker.js';
import { Wakeup } from '../time/wakeup.js';
import type { IdSource } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import { ControlWatch } from './control-watch.js';
import { DigestWriter } from './digest-writer.js';
import { Heartbeat, type NodeRecordFields } from './heartbeat.js';
import { isoNow, type NodeContext } from './node-context.js';
import { NodeGossip, type GossipPart } from './node-gossip.js';
import type { NodeCounts, NodeState } from '../records/node-record.js';
import { ManifestWatch } from './manifest-watch.js';
import { PeerWatch } from './peer-watch.js';
import { ResultCheck } from './result-check.js';
import { failureCounts } from './retry-rule.js';
import { scanRun } from './scan-run.js';
import { Scheduler, type Claimed } from './scheduler.js';
import { resolveNodeSettings, type NodeSettings } from './settings.js';
import { StoreClock } from './store-clock.js';
import { recordOutcome } from './item-outcome.js';
import { StoreHealth } from './store-health.js';
import type { HostFault } from './host-fault.js';
import { ItemWork, type ItemOutcome } from './work-item.js';
import { WorkView } from './work-view.js';
import { messageOf } from '../util/message-of.js';

export interface ReplayNodeDeps {
  store: Store;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  runner: Runner;
  /** Absent with --no-gossip: the node works from the store alone. */
  gossip?: GossipPart;
  /** For the node record: host name, process id, product version. */
  host: string;
  pid: number;
  version: string;
}

export interface ReplayNodeConfig {
  run: string;
  node: string;
  manifest: Manifest;
  /** The ETag `manifest` was read with (join), so the node's manifest watch starts from it. */
  manifestEtag?: string;
  settings?: Partial<NodeSettings>;
}

export interface NodeExit {
  /** `run complete` (--exit-when-done), `drained`, `stopped` (signal or stop()), `error`. */
  reason: 'run complete' | 'drained' | 'stopped' | 'error';
  detail?: string;
}

/** The shortest gap between two rescans asked for by collisions (bounds listing traffic under contention). */
const COLLISION_RESCAN_MS = 50;
/** A peer not heard from over gossip for this long may be gone: three missed progress re-publishes (gossip-options.ts, every 2 s). */
const GOSSIP_SILENCE_MS = 6_000;

interface Active {
  work: ItemWork;
  startedAt: string;
  progress?: RunnerProgress;
  done: Promise<void>;
}

/**
 * A replay host (issue 4, docs/protocol.md): claims items of one run through
 * leases, replays them with its runner, writes results, failures and
 * conflicts, keeps its node record fresh, watches peers' heartbeats and the
 * operator's control objects, and uses gossip as a hint when it has it.
 *
 * States: initializing, waiting (nothing claimable), working, paused,
 * draining, stopping, stopped. start() and stop() are idempotent; `exited`
 * resolves once the node has stopped, for whatever reason.
 */
export class ReplayNode {
  readonly exited: Promise<NodeExit>;
  private readonly ctx: NodeContext;
  private readonly view: WorkView;
  private readonly peers: PeerWatch;
  private readonly scheduler: Scheduler;
  private readonly control: ControlWatch;
  private readonly heartbeat: Heartbeat;
  private readonly digests: DigestWriter;
  private readonly gossip: NodeGossip | undefined;
  private readonly peerTicker: Ticker;
  private readonly controlTicker: Ticker;
  private readonly wake: Wakeup;
  private readonly health: StoreHealth;
  private readonly results: ResultCheck;
  private readonly manifestWatch: ManifestWatch;
  /** Set by the first host fault (host-fault.ts): the node claims nothing more and exits once its items are done. */
  private hostFault: HostFault | undefined;
  private readonly active = new Map<string, Active>();
  private readonly counts: NodeCounts = { done: 0, confirmed: 0, conflicts: 0, failed: 0 };
  private readonly released: string[] = [];
  private readonly halt = new AbortController();
  private state: NodeState = 'initializing';
  private draining = false;
  /** The last look for work found nothing claimable: peers' changes are then worth reading. */
  private starved = false;
  /** The last scan judged every listed result (result-check.ts): a run may be called complete only then. */
  private resultsChecked = false;
  private peerWatchForced = false;
  private lastPeerListingAt = -Infinity;
  private peerWatchSkips = 0;
  private stopReason: string | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private loop: Promise<void> | undefined;
  private resolveExit!: (exit: NodeExit) => void;
  private readonly startedAt: string;

  constructor(private readonly deps: ReplayNodeDeps, private readonly config: ReplayNodeConfig) {
    const { store, clock, ids, logger } = deps;
    const { run, node, manifest } = config;
    const ttlMs = manifest.defaults.leaseTtlMs;
    const settings = resolveNodeSettings(ttlMs, deps.gossip !== undefined, config.settings);
    const log = logger.child({ run, node });
    const judge = new ExpiryJudge(clock, { fallbackTtlMs: ttlMs, logger: log });
    const storeClock = new StoreClock(clock);
    const items = manifestItems(manifest);
    this.ctx = {
      store, clock, ids, logger: log, run, node, manifest, items, settings, judge, storeClock,
      lease: { store, clock, ids, run, node, ttlMs, judge, logger: log },
    };
    this.startedAt = isoNow(clock);
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.view = new WorkView(items, clock);
    this.results = new ResultCheck({ store, logger: log, run });
    // At most one look per heartbeat: collisions can ask for a rescan every 50 ms.
    this.manifestWatch = new ManifestWatch({ store, clock, run, manifest, everyMs: settings.heartbeatMs, ...(config.manifestEtag ? { etag: config.manifestEtag } : {}) });
    this.peers = new PeerWatch({ store, clock, logger: log, run, self: node, storeClock, fallbackStaleAfterMs: ttlMs });
    this.gossip = deps.gossip ? new NodeGossip(deps.gossip, this.ctx, () => this.wake.poke()) : undefined;
    this.scheduler = new Scheduler({ ctx: this.ctx, view: this.view, peers: this.peers, hints: this.gossip?.hints, isLocal: (id) => this.active.has(id) });
    this.control = new ControlWatch({ store, logger: log, run, node });
    this.digests = new DigestWriter({ store, clock, ids, logger: log, run, node });
    this.health = new StoreHealth({ clock, ids, logger: log, maxDelayMs: settings.storeRetryMaxMs });
    // A store that does not answer is logged once per outage (StoreHealth), not once per failed request.
    const trouble = (what: string) => (error: unknown) => {
      if (this.health.absorb(error, what)) this.wake.poke();
      else log.warn({ err: error }, `${what} failed; trying again next round`);
    };
    this.heartbeat = new Heartbeat(
      { store, clock, logger: log, run, node, storeClock, heartbeatMs: settings.heartbeatMs, onWriteFailed: trouble('node record') },
      () => this.recordFields(),
      () => this.digests.flush(),
    );
    this.wake = new Wakeup(clock);
    this.peerTicker = new Ticker(clock, settings.peerWatchMs, () => this.watchPeers(), trouble('peer watch'));
    this.controlTicker = new Ticker(clock, settings.controlPollMs, () => this.pollControl(), trouble('control poll'));
  }

  get nodeState(): NodeState {
    return this.state;
  }

  get stats(): { counts: NodeCounts; scheduler: Scheduler['stats']; view: ReturnType<WorkView['counts']>; recordReads: PeerWatch['recordReads']; resultReads: number; peerWatchSkips: number } {
    return { counts: { ...this.counts }, scheduler: { ...this.scheduler.stats }, view: this.view.counts(), recordReads: this.peers.recordReads, resultReads: this.results.reads, peerWatchSkips: this.peerWatchSkips };
  }

  /** Someone unknown tried to connect over gossip: a new member, perhaps; look at node records now. */
  peersChanged(): void {
    this.peerWatchForced = true;
    this.peerTicker.wake();
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  /** Graceful: stops claiming, aborts running items and releases their leases, marks the node stopped. Bounded by stopTimeoutMs. */
  stop(reason = 'stopped'): Promise<void> {
    return this.shutdown({ reason: 'stopped', detail: reason });
  }

  private async doStart(): Promise<void> {
    const { ctx } = this;
    ctx.logger.info({ items: ctx.items.length, concurrency: ctx.settings.concurrency, runner: this.deps.runner.name, gossip: Boolean(this.gossip) }, 'node starting');
    // Each step may take long (installing nodeos); a stop() meanwhile ends the start-up at the next step.
    const halted = (): boolean => this.halt.signal.aborted;
    // Every step that reads the store waits out an outage (503s, refused connections) instead of failing the start.
    await this.heartbeat.write();
    if (halted()) return;
    await this.health.untilAnswered('preparing the runner', () => this.deps.runner.prepare(), this.halt.signal);
    if (halted()) return;
    if (this.gossip) await this.gossip.start();
    if (halted()) return;
    await this.health.untilAnswered('start-up', () => Promise.all([this.pollControl(), this.watchPeers(true), this.scan()]), this.halt.signal);
    if (halted()) return;
    this.heartbeat.start();
    this.peerTicker.start();
    this.controlTicker.start();
    this.loop = this.mainLoop().catch((error: unknown) => {
      ctx.logger.error({ err: error }, 'node loop failed');
      void this.shutdown({ reason: 'error', detail: messageOf(error) });
    });
  }

  private async mainLoop(): Promise<void> {
    const { settings, clock } = this.ctx;
    while (!this.halt.signal.aborted) {
      const control = this.control.current;
      if (control.drain && !this.draining) {
        this.draining = true;
        this.ctx.logger.info({ active: this.active.size }, 'drain requested: finishing current items, then exiting');
      }
      if (this.draining && this.active.size === 0) {
        await this.control.clearOwnDrain();
        void this.shutdown({ reason: 'drained' });
        return;
      }
      if (this.hostFault && this.active.size === 0) {
        void this.shutdown({ reason: 'error', detail: `host fault (${this.hostFault.reason}): ${this.hostFault.message}` });
        return;
      }
      if (!control.paused && !this.draining && !this.hostFault && !(await this.claimRound())) continue;
      if (this.halt.signal.aborted) return;
      if (settings.exitWhenDone && this.active.size === 0 && this.view.finished && this.scheduler.unfinishedLeases() === 0) {
        if (this.resultsChecked) {
          void this.shutdown({ reason: 'run complete' });
          return;
        }
        // One more look first, judging every listed result: a corrupt one is not a complete item.
        await this.lookAgain();
        continue;
      }
      this.updateState();
      const now = clock.monotonic();
      // A collision's rescan is due 50 ms after the last scan, not a whole idle period later.
      // With every slot busy (or claiming off: paused, draining, a host fault) a due scan or check cannot
      // happen before something changes, and every such change pokes: waiting 0 would spin the loop.
      const claiming = this.active.size < settings.concurrency && !this.control.current.paused && !this.draining && !this.hostFault;
      const untilScan = this.scheduler.lastScanAt + (this.scheduler.wantsScan ? COLLISION_RESCAN_MS : settings.idleScanMs) - now;
      const untilCheck = (this.scheduler.nextCheckAt() ?? Infinity) - now;
      await this.wake.wait(claiming ? Math.max(0, Math.min(untilScan, untilCheck, settings.idleScanMs)) : settings.idleScanMs);
    }
  }

  /**
   * One round of claiming. While the store does not answer, the node works
   * on nothing new, pauses (capped, jittered backoff) and tries again; after
   * an outage it rescans first, since anything may have changed meanwhile.
   * A definite refusal (credentials, a missing bucket) is not an outage: it
   * ends the node. @returns false when the store did not answer.
   */
  private async claimRound(): Promise<boolean> {
    try {
      if (!this.health.available) {
        await this.scan();
        this.updateState({ write: true });
      }
      await this.fill();
      return true;
    } catch (error) {
      if (this.halt.signal.aborted) return false;
      if (!this.health.absorb(error, 'claiming')) throw error;
      this.updateState({ write: true });
      await this.health.pause(this.halt.signal);
      return false;
    }
  }

  /** A scan outside a claim round (before calling the run complete); the store being away is waited out like there. */
  private async lookAgain(): Promise<void> {
    try {
      await this.scan();
    } catch (error) {
      if (this.halt.signal.aborted) return;
      if (!this.health.absorb(error, 'checking results')) throw error;
      this.updateState({ write: true });
      await this.health.pause(this.halt.signal);
    }
  }

  /** Claims until every slot is busy or nothing is claimable. */
  private async fill(): Promise<void> {
    const { settings, clock } = this.ctx;
    while (this.active.size < settings.concurrency && !this.halt.signal.aborted && !this.control.current.paused && !this.draining && !this.hostFault) {
      let claimed = await this.scheduler.claimNext(this.halt.signal);
      // Starved: nothing known to claim (not merely a collision waiting for its rescan).
      this.starved = !claimed && !this.scheduler.wantsScan;
      if (!claimed) {
        const sinceScan = clock.monotonic() - this.scheduler.lastScanAt;
        // A collision asks for a rescan at once (a few list requests); anything else waits its period.
        const due = sinceScan >= settings.idleScanMs || (this.scheduler.wantsScan && sinceScan >= COLLISION_RESCAN_MS)
          || (settings.exitWhenDone && this.gossip?.allAnnouncedDone(this.view) === true && sinceScan >= 1_000);
        if (!due) return;
        await this.scan();
        claimed = await this.scheduler.claimNext(this.halt.signal);
      }
      this.starved = !claimed;
      if (!claimed || this.halt.signal.aborted || this.hostFault) {
        // Won as the node stops (or stopped claiming): nobody will work on it, give it back through a keeper.
        if (claimed) await giveBackLease(this.ctx.lease, claimed.lease, 'stopping');
        return;
      }
      this.startWork(claimed);
    }
  }

  /**
   * One look at the run: results/ and leases/ listed, and (at most once a
   * heartbeat) the manifest checked for a replacement. When the node has
   * nothing to claim, or its view says the run is finished, the listed
   * results are checked too (result-check.ts): only usable results make
   * items complete, so `--exit-when-done` never exits over a corrupt one.
   */
  private async scan(): Promise<void> {
    const { ctx } = this;
    const listing = await scanRun(ctx.store, ctx.clock, ctx.run, this.view.byId);
    this.health.answered();
    if (await this.manifestReplaced()) return;
    const keys = runKeys(ctx.run);
    for (const [id, info] of listing.leases) ctx.judge.observe(keys.lease(id), info.etag, info.seenAt);
    const known = this.results.unusable(listing.results);
    this.view.applyListings(listing.resultIds, listing.leases, { startedAt: listing.startedAt, unusable: known });
    this.resultsChecked = false;
    if (this.starved || this.view.finished) {
      const unusable = await this.results.check(listing.results);
      if (unusable.size !== known.size || [...unusable].some((id) => !known.has(id))) {
        this.view.applyListings(listing.resultIds, listing.leases, { startedAt: listing.startedAt, unusable });
      }
      this.resultsChecked = true;
    }
    this.scheduler.scanned();
    if (listing.foreign.length > 0) ctx.logger.debug({ foreign: listing.foreign.slice(0, 5), count: listing.foreign.length }, 'foreign keys in the run skipped');
  }

  /**
   * Runs are immutable: a manifest replaced under the node (manifest-watch.ts)
   * stops its work on the run, with one line. Looked at from rescans and
   * from the peer watch (every heartbeat, so a node busy on a long free
   * stretch looks too); at most one conditional GET per heartbeat.
   */
  private async manifestReplaced(): Promise<boolean> {
    if (this.stopping) return true;
    const replaced = await this.manifestWatch.check();
    if (replaced === undefined) return false;
    this.ctx.logger.error({ key: runKeys(this.ctx.run).manifest }, `${replaced}; runs are immutable: this node stops work on run ${this.ctx.run} (publish the new definition as a new run)`);
    void this.shutdown({ reason: 'error', detail: replaced });
    return true;
  }

  private startWork(claimed: Claimed): void {
    const { item, lease, how } = claimed;
    const work = new ItemWork(this.ctx, this.deps.runner, item, lease, how, {
      onProgress: (id, p) => this.onProgress(id, p),
      halt: this.halt.signal,
      onOpenLease: (id, epoch) => this.scheduler.finishLater(id, epoch),
      failureCounts: (id, failedBy) => failureCounts({
        node: this.ctx.node, failedBy, provedHealthy: this.scheduler.provedHealthySince(id), liveNodes: this.peers.liveNodes(),
      }),
    });
    const entry: Active = { work, startedAt: isoNow(this.ctx.clock), done: Promise.resolve() };
    this.active.set(item.id, entry);
    this.ctx.logger.info({ item: item.id, epoch: lease.record.epoch, how }, `claimed ${item.id}`);
    this.gossip?.event({ event: 'claimed', item: item.id, epoch: lease.record.epoch });
    // One record write per claim: it names the new item (and the state, if it changed).
    this.updateState({ write: true });
    entry.done = work.run().then(
      async (outcome) => {
        this.afterItem(item.id, work.epoch, outcome);
        // Before claiming again, know who else is alive, so a retry of what just failed here goes to them.
        if (outcome.kind === 'failed' && !outcome.final) await this.watchPeers().catch(() => undefined);
      },
      (error: unknown) => this.ctx.logger.error({ item: item.id, err: error }, 'item work crashed'),
    ).finally(() => {
      this.active.delete(item.id);
      // No state update here: the loop claims the next item at once, and only if it finds none does
      // the state become waiting (a record write per item end would double the node's writes).
      this.wake.poke();
    });
  }

  private afterItem(id: string, epoch: number, outcome: ItemOutcome): void {
    const sinks = { view: this.view, scheduler: this.scheduler, counts: this.counts, released: this.released, digests: this.digests, results: this.results, gossip: this.gossip, logger: this.ctx.logger };
    recordOutcome(sinks, id, epoch, outcome);
    if (outcome.kind === 'host-fault' && !this.hostFault) {
      this.hostFault = outcome.fault;
      this.ctx.logger.error(
        { reason: outcome.fault.reason, item: id, active: this.active.size - 1, hostFault: true },
        `host fault (${outcome.fault.reason}): ${outcome.fault.message}; this node stops claiming, leaves its items to other nodes (not counted against them) and exits once its other items are done; fix this host, then start the node again`,
      );
      this.updateState();
    }
  }

  private onProgress(id: string, progress: RunnerProgress): void {
    const entry = this.active.get(id);
    if (entry) entry.progress = progress;
    this.gossip?.progress(this.state, this.progressItems());
  }

  private progressItems(): Array<{ item: string; headBlock: number; blocksPerSecond: number }> {
    return [...this.active].map(([item, a]) => ({ item, headBlock: a.progress?.headBlock ?? this.view.byId.get(item)!.start, blocksPerSecond: a.progress?.blocksPerSecond ?? 0 }));
  }

  /**
   * One round of the peer watch (every heartbeat). With gossip, while every
   * live peer is heard from, a round is skipped unless a full stale-after
   * passed since the last listing: the peers' progress says they are alive,
   * and releases arrive as events. Any silence (a crash, a partition, a peer
   * without gossip), a stranger dialling in or a starved node brings the
   * listing back every heartbeat, so failover is as fast as without gossip.
   */
  private async watchPeers(details = false): Promise<void> {
    if (await this.manifestReplaced()) return;
    const { clock, settings } = this.ctx;
    const now = clock.monotonic();
    const readChanged = details || this.starved;
    const forced = readChanged || this.peerWatchForced;
    const heardAll = this.gossip?.hearsAll(this.peers.liveNodes(), GOSSIP_SILENCE_MS) === true;
    if (!forced && heardAll && now - this.lastPeerListingAt < settings.staleAfterMs) {
      this.peerWatchSkips += 1;
      return;
    }
    this.peerWatchForced = false;
    this.lastPeerListingAt = now;
    await this.peers.refresh({ details: readChanged });
    this.gossip?.setMembers(this.peers.members(), this.deps.gossip?.peerId);
    const dropped = this.peers.takeDropped();
    this.scheduler.hintReleased(dropped);
    // A run that is done may only wait for its last leases to be finished: look again now.
    if (dropped.length > 0 || this.peers.suspectItems().size > 0 || this.view.finished) this.wake.poke();
  }

  private async pollControl(): Promise<void> {
    const before = this.control.current;
    const after = await this.control.poll();
    if (before.paused !== after.paused || before.drain !== after.drain) {
      this.ctx.logger.info({ paused: after.paused, drain: after.drain }, 'operator control changed');
      this.updateState();
      this.wake.poke();
    }
  }

  /** Recomputes the state; writes the node record when it changed (or when asked: a claim). */
  private updateState(options: { write?: boolean } = {}): void {
    if (this.stopping || this.halt.signal.aborted) return;
    const next: NodeState = this.draining || this.hostFault ? 'draining'
      : this.active.size > 0 ? 'working'
      : this.control.current.paused ? 'paused'
      : this.starting && this.loop ? 'waiting' : 'initializing';
    const changed = next !== this.state;
    this.state = next;
    if (changed || options.write) void this.heartbeat.write();
    if (changed) this.gossip?.progress(this.state, this.progressItems());
  }

  private recordFields(): NodeRecordFields {
    const { settings } = this.ctx;
    return {
      state: this.state,
      items: [...this.active].map(([item, a]) => ({
        item, epoch: a.work.epoch, startedAt: a.startedAt,
        ...(a.progress ? { headBlock: a.progress.headBlock, ...(a.progress.blocksPerSecond === undefined ? {} : { blocksPerSecond: Math.round(a.progress.blocksPerSecond) }) } : {}),
      })),
      host: this.deps.host, pid: this.deps.pid, version: this.deps.version, runner: this.deps.runner.name,
      concurrency: settings.concurrency, startedAt: this.startedAt,
      heartbeatMs: settings.heartbeatMs, staleAfterMs: settings.staleAfterMs,
      counts: { ...this.counts },
      ...(this.released.length > 0 ? { released: [...this.released] } : {}),
      ...(this.gossip ? { peerId: this.gossip.peerId, addrs: this.gossip.addresses() } : {}),
      ...(this.stopReason ? { reason: this.stopReason } : this.hostFault ? { reason: `host fault (${this.hostFault.reason}): claims nothing more` } : {}),
      ...(this.health.unavailableSince ? { storeUnavailableSince: this.health.unavailableSince } : {}),
    };
  }

  /** The one way out, whatever the reason; the first reason wins. */
  private shutdown(exit: NodeExit): Promise<void> {
    this.stopping ??= this.doShutdown(exit);
    return this.stopping;
  }

  private async doShutdown(exit: NodeExit): Promise<void> {
    const { logger, settings, clock } = this.ctx;
    this.halt.abort();
    this.wake.poke();
    this.stopReason = exit.detail ?? exit.reason;
    this.state = 'stopping';
    logger.info({ reason: this.stopReason, active: this.active.size }, 'node stopping');
    void this.heartbeat.write();
    // Let a start-up in progress reach its next step (it stops there), so that nothing it does follows our last write.
    await within(clock, settings.stopTimeoutMs, (this.starting ?? Promise.resolve()).catch(() => undefined));
    const released = [...this.active.values()].map((a) => a.work.stop('stopping'));
    const settled = await within(clock, settings.stopTimeoutMs, Promise.all([...released, ...[...this.active.values()].map((a) => a.done)]));
    if (settled === undefined) logger.warn({ items: [...this.active.keys()] }, 'some leases were not released in time; they will expire');
    await within(clock, settings.stopTimeoutMs, Promise.all([this.peerTicker.stop(), this.controlTicker.stop(), this.heartbeat.stop()]));
    await within(clock, settings.stopTimeoutMs, this.digests.flush());
    this.state = 'stopped';
    await within(clock, settings.stopTimeoutMs, this.heartbeat.write());
    await within(clock, settings.stopTimeoutMs, Promise.all([this.gossip?.stop(), this.deps.runner.close()]));
    logger.info({ reason: this.stopReason, ...this.counts }, 'node stopped');
    this.resolveExit(exit);
  }
}
