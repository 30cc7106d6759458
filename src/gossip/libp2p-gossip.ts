import type { ConnectionGater, Message, PeerId, TopicValidatorResult } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { deadline } from '../time/deadline.js';
import type { Logger } from '../util/logger.js';
import { bootstrapPeerId, parseAddress, withPeerId } from './addresses.js';
import { createLibp2pNode, type Libp2pNode } from './create-libp2p-node.js';
import { DialPlanner } from './dial-planner.js';
import { GossipListenError } from './errors.js';
import { zeroCounters, type DropReason, type Gossip, type GossipCounters, type ReceivedMessage } from './gossip.js';
import { DEFAULT_LISTEN, resolveTuning, type GossipOptions, type GossipTuning } from './gossip-options.js';
import { describeHandshakeFailure, ENCRYPT_STEP } from './handshake-failure.js';
import type { RpcGate } from './gated-gossipsub.js';
import { loadOrCreateIdentity } from './identity.js';
import { Membership, type MemberRecord } from './membership.js';
import {
  GOSSIP_SCHEMA, encodeMessage, eventsTopic, progressTopic,
  type EventMessage, type EventUpdate, type GossipMessage, type ProgressMessage, type ProgressUpdate,
} from './messages.js';
import { RateLimiter } from './rate-limiter.js';
import { createRpcGate } from './rpc-gate.js';
import { screenMessage } from './screen-message.js';
import { ThrottleReport } from './throttle-report.js';
import { Ticker, within } from '../time/ticker.js';
import { messageOf } from '../util/message-of.js';

type Envelope = 'schema' | 'run' | 'node' | 'id' | 'sentAt';
type MessageBody = Omit<ProgressMessage, Envelope> | Omit<EventMessage, Envelope>;

/** Remembered strangers (peers refused before we knew them), so they are dialled at once if they become members. */
const MAX_REFUSED = 256;

/** Builds a gossip node for one run: loads (or creates) the identity, prepares libp2p; start() goes live. */
export async function createGossip(options: GossipOptions): Promise<Gossip> {
  const tuning = resolveTuning(options.tuning);
  for (const address of [...(options.listen ?? []), ...(options.announce ?? [])]) parseAddress(address);
  const bootstrapIds = new Set((options.bootstrap ?? []).map(bootstrapPeerId));
  const identity = await loadOrCreateIdentity(options.dataDir);
  const logger = options.logger.child({ component: 'gossip' });
  if (identity.created) logger.info({ peerId: identity.peerId, path: identity.path }, 'created a new peer identity');
  if (identity.tightened) logger.warn({ path: identity.path }, 'peer identity file was readable by others; restricted it to 0600');
  return new Libp2pGossip(options, tuning, identity.peerId, bootstrapIds, logger, async (gater, gate) =>
    createLibp2pNode({
      privateKey: identity.privateKey,
      listen: options.listen ?? DEFAULT_LISTEN,
      announce: options.announce ?? [],
      swarmKey: options.swarmKey,
      bootstrap: options.bootstrap ?? [],
      topics: [progressTopic(options.run), eventsTopic(options.run)],
      gater,
      // A frame is one RPC, which may batch many messages (a reply to IWANT for everything missed in the last
      // few seconds); single messages over maxMessageBytes are dropped by the gate. A frame over this makes
      // gossipsub drop the peer's streams, cutting its gossip to us until it reconnects: only for the absurd.
      maxInboundDataLength: Math.max(1 << 20, tuning.maxMessageBytes * 64),
      gate,
    }),
  );
}

class Libp2pGossip implements Gossip {
  private readonly membership: Membership;
  private readonly limiter: RateLimiter;
  private readonly gate: RpcGate;
  private readonly throttles: ThrottleReport;
  private readonly planner: DialPlanner;
  private readonly handlers = new Set<(message: ReceivedMessage) => void>();
  private readonly stats: GossipCounters = zeroCounters();
  private readonly topics: { progress: string; events: string };
  private readonly refused = new Set<string>();
  private readonly dialling = new Set<string>();
  private readonly mismatchWarned = new Set<string>();
  private readonly dialer: Ticker;
  private readonly republisher: Ticker;
  private readonly halt = new AbortController();
  private latestProgress: ProgressUpdate | undefined;
  private announcedJoin = false;
  private node: Libp2pNode | undefined;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly options: GossipOptions,
    private readonly tuning: GossipTuning,
    readonly peerId: string,
    private readonly bootstrapIds: ReadonlySet<string>,
    private readonly logger: Logger,
    private readonly build: (gater: ConnectionGater, gate: RpcGate) => Promise<Libp2pNode>,
  ) {
    this.membership = new Membership(peerId);
    this.limiter = new RateLimiter(options.clock, tuning.rateLimit);
    this.throttles = new ThrottleReport(options.clock, logger, (peer) => this.membership.nodeOf(peer), tuning.throttleLogMs);
    this.gate = createRpcGate({ clock: options.clock, tuning, stats: this.stats, throttles: this.throttles, logger });
    this.planner = new DialPlanner(peerId, options.clock, tuning.dialPolicy);
    this.topics = { progress: progressTopic(options.run), events: eventsTopic(options.run) };
    const onError = (error: unknown): void => this.logger.warn({ err: error }, 'gossip loop error');
    this.dialer = new Ticker(options.clock, tuning.dialTickMs, () => this.dialMissing(), onError);
    this.republisher = new Ticker(options.clock, tuning.republishMs, () => this.republish(), onError);
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  addresses(): string[] {
    return this.node?.getMultiaddrs().map((address) => address.toString()) ?? [];
  }

  setMembers(records: readonly MemberRecord[]): void {
    const change = this.membership.update(records);
    this.stats.members = this.membership.size;
    for (const peer of change.duplicates) {
      this.logger.warn({ peerId: peer }, 'two live node records name the same peer id (a copied data directory?); only the first is a member');
    }
    for (const peer of change.removed) void this.node?.hangUp(peerIdFromString(peer)).catch(() => {});
    for (const peer of change.added) if (this.refused.delete(peer)) this.planner.dialSoon(peer);
    if (change.added.length > 0) this.dialer.wake();
  }

  publishProgress(progress: ProgressUpdate): void {
    this.latestProgress = { state: progress.state, items: progress.items.map((item) => ({ ...item })) };
    void this.publish(this.topics.progress, { type: 'progress', ...this.latestProgress });
  }

  publishEvent(event: EventUpdate): void {
    void this.publish(this.topics.events, { type: 'event', ...event });
  }

  onMessage(handler: (message: ReceivedMessage) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  counters(): GossipCounters {
    return {
      ...this.stats,
      dropped: { ...this.stats.dropped },
      connections: this.node?.getConnections().length ?? 0,
    };
  }

  private async doStart(): Promise<void> {
    const node = await this.build(this.gater(), this.gate);
    this.node = node;
    const pubsub = node.services.pubsub;
    // The verdict strings are TopicValidatorResult's values; the enum itself lives in @libp2p/interface.
    pubsub.topicValidators.set(this.topics.progress, (_relay, message) => this.validate('progress', message) as unknown as TopicValidatorResult);
    pubsub.topicValidators.set(this.topics.events, (_relay, message) => this.validate('event', message) as unknown as TopicValidatorResult);
    pubsub.addEventListener('message', (event) => this.deliver(event.detail));
    pubsub.addEventListener('subscription-change', (event) => {
      const peer = event.detail.peerId.toString();
      for (const sub of event.detail.subscriptions) if (sub.subscribe) void this.onSubscriber(peer, sub.topic);
    });
    node.addEventListener('peer:connect', (event) => {
      const peer = event.detail.toString();
      this.logger.debug({ peerId: peer, node: this.membership.nodeOf(peer) }, 'gossip peer connected');
    });
    node.addEventListener('connection:open', (event) => this.dropDuplicate(event.detail.remotePeer.toString()));
    node.addEventListener('peer:disconnect', (event) => {
      const peer = event.detail.toString();
      this.logger.debug({ peerId: peer, node: this.membership.nodeOf(peer) }, 'gossip peer disconnected');
    });
    try {
      await node.start();
    } catch (error) {
      if ((error as Error).name !== 'UnsupportedListenAddressesError') throw error;
      // libp2p's message is a paragraph with stacks; keep the system error codes (EADDRINUSE, EADDRNOTAVAIL).
      const codes = [...new Set(messageOf(error).match(/\bE[A-Z]{4,}\b/g) ?? [])];
      throw new GossipListenError(this.options.listen ?? DEFAULT_LISTEN, codes.join(', ') || 'listen failed', { cause: error });
    }
    pubsub.subscribe(this.topics.progress);
    pubsub.subscribe(this.topics.events);
    this.logger.info({ peerId: this.peerId, addresses: this.addresses() }, 'gossip listening');
    this.dialer.start();
    this.republisher.start();
  }

  private async doStop(): Promise<void> {
    await this.starting?.catch(() => {});
    const node = this.node;
    if (!node) return;
    this.halt.abort();
    await this.dialer.stop();
    await this.republisher.stop();
    if (node.getConnections().length > 0) {
      await within(this.options.clock, this.tuning.leaveGraceMs, this.publish(this.topics.events, { type: 'event', event: 'leaving' }));
      // publish() resolves once queued; give the frames a moment on the wire before closing.
      await this.options.clock.sleep(this.tuning.leaveGraceMs);
    }
    const stopped = await within(this.options.clock, this.tuning.stopTimeoutMs, Promise.resolve(node.stop()).then(() => true));
    if (!stopped) this.logger.warn({ ms: this.tuning.stopTimeoutMs }, 'libp2p did not stop in time; leaving it');
  }

  private gater(): ConnectionGater {
    return {
      denyInboundEncryptedConnection: (peer: PeerId) => {
        const id = peer.toString();
        if (this.membership.has(id) || this.bootstrapIds.has(id)) return false;
        this.stats.refusedConnections += 1;
        if (this.refused.size >= MAX_REFUSED) this.refused.clear();
        this.refused.add(id);
        this.logger.debug({ peerId: id }, 'refused a connection from a peer without a live node record');
        this.options.onStranger?.(id);
        return true;
      },
    };
  }

  /** Gossipsub's topic validator: runs after the gate and the signature check, synchronously (no await: it must be fast). */
  private validate(type: GossipMessage['type'], message: Message): 'accept' | 'ignore' | 'reject' {
    const from = message.type === 'signed' ? message.from.toString() : undefined;
    const screened = screenMessage(this.screenContext(true), type, { from, data: message.data });
    if (screened.verdict !== 'accept') this.drop(screened.reason, screened.detail, from);
    return screened.verdict;
  }

  private screenContext(limited: boolean) {
    return {
      run: this.options.run,
      membership: this.membership,
      ...(limited ? { limiter: this.limiter } : {}),
      maxMessageBytes: this.tuning.maxMessageBytes,
      now: this.options.clock.now(),
    };
  }

  private drop(reason: DropReason, detail: string | undefined, from: string | undefined): void {
    this.stats.dropped[reason] += 1;
    // A flood is reported once per peer per period, not once per message.
    if (reason === 'rateLimited' && from !== undefined) this.throttles.drop(from, reason);
    else this.logger.debug({ reason, detail }, 'dropped a gossip message');
  }

  private deliver(message: Message): void {
    if (message.type !== 'signed') return;
    const type = message.topic === this.topics.progress ? 'progress' : 'event';
    // Validation passed already; decoding again is cheaper than caching decoded messages by id.
    const screened = screenMessage(this.screenContext(false), type, { from: message.from.toString(), data: message.data });
    if (screened.verdict !== 'accept') return;
    this.stats.accepted += 1;
    for (const handler of this.handlers) {
      try {
        handler({ from: screened.from, message: screened.message });
      } catch (error) {
        this.logger.warn({ err: error }, 'gossip message handler failed');
      }
    }
  }

  /**
   * Two connections to one peer happen when both sides dial at once (a
   * stranger we refused is dialled eagerly once it becomes a member, while
   * it retries too). Both sides keep the one the lower peer id dialled and
   * close the other, so they agree on which survives.
   */
  private dropDuplicate(peer: string): void {
    const connections = this.node?.getConnections(peerIdFromString(peer)) ?? [];
    if (connections.length < 2) return;
    const weDialLower = this.peerId < peer;
    const keep = connections.find((c) => (c.direction === 'outbound') === weDialLower) ?? connections[0]!;
    for (const c of connections) if (c !== keep) void c.close().catch(() => {});
  }

  /** A peer subscribed to one of our topics: send it our latest state now rather than at the next re-publish. */
  private async onSubscriber(peer: string, topic: string): Promise<void> {
    const isProgress = topic === this.topics.progress;
    if (!(isProgress && this.latestProgress) && !(topic === this.topics.events && !this.announcedJoin)) return;
    if (!isProgress) this.announcedJoin = true;
    if (!(await this.outboundStreamTo(peer))) return;
    if (isProgress) this.republisher.wake();
    else await this.publish(this.topics.events, { type: 'event', event: 'joining' });
  }

  /**
   * The peer's subscription arrives on its stream to us; our stream to it
   * may open a moment later, and gossipsub silently skips a peer without
   * one when publishing. Waits (up to 1 s) for that stream; false if stopped.
   */
  private async outboundStreamTo(peer: string): Promise<boolean> {
    const streams = (this.node?.services.pubsub as unknown as { streamsOutbound?: Map<string, unknown> }).streamsOutbound;
    for (let i = 0; i < 20 && !streams?.has(peer); i++) {
      try {
        await this.options.clock.sleep(50, this.halt.signal);
      } catch {
        return false;
      }
    }
    return !this.halt.signal.aborted;
  }

  private async republish(): Promise<void> {
    if (this.latestProgress) await this.publish(this.topics.progress, { type: 'progress', ...this.latestProgress });
  }

  private async publish(topic: string, body: MessageBody): Promise<void> {
    const node = this.node;
    if (!node || this.stopping && body.type !== 'event') return;
    const message = {
      schema: GOSSIP_SCHEMA,
      run: this.options.run,
      node: this.options.node,
      id: this.options.ids.ulid(),
      sentAt: this.options.clock.now(),
      ...body,
    } as GossipMessage;
    try {
      await node.services.pubsub.publish(topic, encodeMessage(message));
      this.stats.published += 1;
    } catch (error) {
      this.stats.publishFailures += 1;
      this.logger.debug({ err: error, topic }, 'gossip publish failed');
    }
  }

  private async dialMissing(): Promise<void> {
    const node = this.node;
    if (!node) return;
    const connected = new Set(node.getConnections().map((connection) => connection.remotePeer.toString()));
    const candidates = [...this.membership.others(), ...[...this.bootstrapIds].filter((p) => p !== this.peerId)];
    for (const peer of this.planner.due(candidates, connected, this.bootstrapIds)) {
      if (this.dialling.has(peer)) continue;
      this.dialling.add(peer);
      void this.dial(node, peer).finally(() => this.dialling.delete(peer));
    }
  }

  private async dial(node: Libp2pNode, peer: string): Promise<void> {
    const addresses = [...this.membership.addrsOf(peer), ...(this.options.bootstrap ?? [])]
      .map((address) => withPeerId(address, peer))
      .filter((address) => address !== undefined);
    if (addresses.length === 0) return;
    this.stats.dials += 1;
    const timeout = deadline(this.options.clock, this.tuning.dialTimeoutMs, `gossip dial to ${peer}`);
    let reachedEncryption = false;
    const onProgress = (event: { type: string }): void => {
      if (event.type === ENCRYPT_STEP) reachedEncryption = true;
    };
    try {
      await node.dial(addresses, { signal: timeout.signal, onProgress });
      this.mismatchWarned.delete(peer);
    } catch (error) {
      this.stats.dialFailures += 1;
      const handshake = describeHandshakeFailure(error, reachedEncryption, this.options.swarmKey !== undefined);
      const who = { peerId: peer, node: this.membership.nodeOf(peer), addresses: addresses.map(String) };
      if (!handshake) {
        this.logger.debug({ ...who, err: error }, 'gossip dial failed');
        return;
      }
      this.stats.handshakeFailures += 1;
      if (this.mismatchWarned.has(peer)) return;
      this.mismatchWarned.add(peer);
      this.logger.warn({ ...who, error: messageOf(error) }, handshake);
    } finally {
      timeout.clear();
    }
  }
}
