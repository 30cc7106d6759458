/**
 * Gossip for one observed run: a gossip node of its own (topics are per
 * run) that listens to the run's members, feeds what it hears into the
 * LiveRun, and follows the live node records for membership; plus the
 * presence record that lets the nodes admit this observer as a
 * receive-only member. Gossip is a hint: the view is right without it.
 */
import { join } from 'node:path';
import type { Gossip, GossipCounters } from '../gossip/gossip.js';
import type { GossipOptions } from '../gossip/gossip-options.js';
import type { Store } from '../store/store.js';
import type { Clock } from '../time/clock.js';
import type { IdSource } from '../util/ids.js';
import type { Logger } from '../util/logger.js';
import type { LiveRun } from './live-run.js';
import type { RunAttachment } from './observer.js';
import { Presence } from './presence.js';

export interface RunGossipOptions {
  store: Pick<Store, 'put' | 'delete'>;
  clock: Clock;
  ids: IdSource;
  logger: Logger;
  observer: string;
  /** Holds one peer identity per run (`<dataDir>/<run>/gossip-identity.key`). */
  dataDir: string;
  gossip: Pick<GossipOptions, 'listen' | 'announce' | 'swarmKey' | 'bootstrap'>;
  heartbeatMs: number;
  staleAfterMs: number;
  host: string;
  version: string;
  createGossip: (options: GossipOptions) => Promise<Gossip>;
}

export interface GossipAttachment extends RunAttachment {
  gossip: Gossip;
  presence: Presence;
  counters(): GossipCounters;
}

export async function attachGossip(live: LiveRun, options: RunGossipOptions): Promise<GossipAttachment> {
  const run = live.run;
  const gossip = await options.createGossip({
    ...options.gossip,
    run,
    node: options.observer,
    dataDir: join(options.dataDir, run),
    clock: options.clock,
    ids: options.ids,
    logger: options.logger.child({ run }),
    // A stranger may be a node that just joined: read the node records now.
    onStranger: () => live.wakeNodes(),
  });
  const offMessages = gossip.onMessage((message) => live.observe(message));
  const offMembers = live.subscribe({ members: (members) => gossip.setMembers(members) });
  await gossip.start();
  gossip.setMembers(live.members());
  const presence = new Presence({
    store: options.store, clock: options.clock, logger: options.logger, run, observer: options.observer, peerId: gossip.peerId,
    addrs: () => gossip.addresses(), heartbeatMs: options.heartbeatMs, staleAfterMs: options.staleAfterMs, host: options.host, version: options.version,
  });
  presence.start();
  let stopping: Promise<void> | undefined;
  return {
    gossip,
    presence,
    counters: () => gossip.counters(),
    stop: () => {
      stopping ??= (async () => {
        offMessages();
        offMembers();
        await presence.stop();
        await gossip.stop();
      })();
      return stopping;
    },
  };
}
