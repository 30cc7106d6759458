/**
 * Issue 19: one member floods the gossip (3,000 valid, signed messages as
 * fast as it can); before the fix both nodes lost the lease they held, at
 * its deadline, because receiving the flood held their event loop for
 * seconds (the renewal timer could not fire). Two nodes in this process,
 * each with its own real gossip stack on 127.0.0.1 and a real lease keeper
 * (memory store, 3 s TTL: renewal every 1 s, deadline 2.4 s after the last
 * confirmed write); the flooder is its own process, as it would be its own
 * host, so its signing does not count against our event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gossip, ReceivedMessage } from '../../src/gossip/gossip.js';
import { createGossip } from '../../src/gossip/libp2p-gossip.js';
import { claimLease } from '../../src/lease/claim.js';
import type { LeaseLostError } from '../../src/lease/errors.js';
import { ExpiryJudge } from '../../src/lease/expiry.js';
import { LeaseKeeper } from '../../src/lease/lease-keeper.js';
import { MemoryStore } from '../../src/store/memory.js';
import { systemClock } from '../../src/time/system-clock.js';
import { systemIds } from '../../src/util/ids.js';
import { until } from '../support/until.js';
import type { FlooderCommand, FlooderConfig } from './gossip-flooder.js';
import { wallMonotonic } from '../support/wall-clock.js';

const RUN = 'flood-run';
const TTL_MS = 3_000;
const FLOOD = 3_000;
const VICTIMS = ['host-a', 'host-b'];
const itemOf = (i: number): string => `${String(i * 1000).padStart(10, '0')}-${String((i + 1) * 1000).padStart(10, '0')}`;

interface Victim {
  node: string;
  gossip: Gossip;
  logs: Array<Record<string, unknown>>;
  heard: ReceivedMessage[];
  keeper?: LeaseKeeper;
  lost: LeaseLostError[];
  renewals: number;
}

class Flooder {
  readonly lines: Array<Record<string, unknown>> = [];
  private readonly child: ChildProcess;
  private stderr = '';
  constructor(config: FlooderConfig) {
    const script = fileURLToPath(new URL('./gossip-flooder.ts', import.meta.url));
    this.child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.lines.push(JSON.parse(line) as Record<string, unknown>));
  }
  send(command: FlooderCommand): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }
  async said(ev: string, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return until(() => this.lines.find((l) => l.ev === ev), (l) => l !== undefined, `the flooder to say ${ev} (stderr: ${this.stderr.slice(-500)})`, timeoutMs) as Promise<Record<string, unknown>>;
  }
  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

const store = new MemoryStore({ clock: systemClock });
const victims: Victim[] = [];
let flooder: Flooder;
let flooderPeerId: string;
let root: string;
let delay: IntervalHistogram;
let floodStartedAt = 0;
let drainedAt = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gossip-flood-'));
  const key = await generateKeyPair('Ed25519');
  flooderPeerId = peerIdFromPrivateKey(key).toString();
  flooder = new Flooder({ run: RUN, node: 'host-x', key: Buffer.from(privateKeyToProtobuf(key)).toString('base64') });
  const ready = await flooder.said('ready');

  for (const node of VICTIMS) {
    const logs: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    const gossip = await createGossip({ run: RUN, node, dataDir: join(root, node), listen: ['/ip4/127.0.0.1/tcp/0'], clock: systemClock, ids: systemIds, logger });
    const victim: Victim = { node, gossip, logs, heard: [], lost: [], renewals: 0 };
    gossip.onMessage((message) => victim.heard.push(message));
    await gossip.start();
    victims.push(victim);
  }
  const members = [
    ...victims.map((v) => ({ node: v.node, peerId: v.gossip.peerId, addrs: v.gossip.addresses() })),
    { node: 'host-x', peerId: flooderPeerId, addrs: ready.addrs as string[] },
  ];
  for (const v of victims) v.gossip.setMembers(members);
  // Honest traffic: each victim's progress, re-published every 2 s, must still get through during the flood.
  victims.forEach((v, i) => v.gossip.publishProgress({ state: 'working', items: [{ item: itemOf(i), headBlock: i, blocksPerSecond: 1 }] }));
  await until(() => victims.every((v) => v.heard.some((m) => m.message.node !== 'host-x')), Boolean, 'the victims to hear each other');
  flooder.send({ cmd: 'dial', addrs: victims.map((v) => v.gossip.addresses()[0]!) });
  await flooder.said('dialled');

  for (const [i, v] of victims.entries()) {
    const ctx = { store, clock: systemClock, ids: systemIds, run: RUN, node: v.node, ttlMs: TTL_MS, judge: new ExpiryJudge(systemClock, { fallbackTtlMs: TTL_MS }), logger: pino({ level: 'info' }, { write: (line: string) => void v.logs.push(JSON.parse(line) as Record<string, unknown>) }) };
    const won = await claimLease(ctx, itemOf(i));
    if (won.kind !== 'won') throw new Error('setup: the claim was not won');
    v.keeper = new LeaseKeeper(ctx, won.lease);
    v.keeper.on('lease:lost', (error) => v.lost.push(error));
    v.keeper.on('lease:renewed', () => {
      v.renewals += 1;
    });
    v.keeper.start();
  }

  delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  floodStartedAt = wallMonotonic();
  flooder.send({ cmd: 'flood', count: FLOOD, item: itemOf(9) });
  await flooder.said('flooded');
  // Drained: next to nothing arrives for 2 s (the victims' own re-published progress goes on; the flood is read at
  // the pace the gate allows, for a while after its publisher is done).
  let last = -Infinity;
  for (;;) {
    await systemClock.sleep(2_000);
    const received = victims.reduce((sum, v) => sum + v.gossip.counters().received, 0);
    if (received - last < 10) break;
    last = received;
  }
  drainedAt = wallMonotonic();
  // One more TTL: renewals carry on after the flood.
  await systemClock.sleep(TTL_MS);
  delay.disable();
}, 180_000);

afterAll(async () => {
  for (const v of victims) await v.keeper?.stop();
  flooder?.stop();
  await Promise.all(victims.map((v) => v.gossip.stop()));
  if (root) await rm(root, { recursive: true, force: true });
});

describe('a member floods the gossip', () => {
  it('every other node keeps the lease it holds: renewals never miss their deadline', () => {
    const floodSeconds = (drainedAt - floodStartedAt) / 1000;
    const maxMs = delay.max / 1e6;
    const p99Ms = delay.percentile(99) / 1e6;
    // The numbers behind the claim (docs/gossip.md quotes them).
    console.log(`flood of ${FLOOD}: drained in ${floodSeconds.toFixed(1)} s; event-loop delay max ${maxMs.toFixed(0)} ms, p99 ${p99Ms.toFixed(0)} ms, mean ${(delay.mean / 1e6).toFixed(0)} ms;`,
      victims.map((v) => `${v.node}: ${JSON.stringify({ received: v.gossip.counters().received, accepted: v.gossip.counters().accepted, ...v.gossip.counters().dropped, renewals: v.renewals })}`).join('; '));
    for (const v of victims) {
      expect(v.lost).toEqual([]);
      expect(v.keeper!.held).toBe(true);
      expect(v.logs.filter((l) => l.lease === 'ended')).toEqual([]);
      // Renewed about every TTL/3 throughout.
      expect(v.renewals).toBeGreaterThanOrEqual(Math.floor(((wallMonotonic() - floodStartedAt) / (TTL_MS / 3)) * 0.5));
    }
    // The keeper renews every TTL/3 and gives up 0.8 TTL after its last write: the loop never stalled anywhere near
    // the 1.4 s between the two (before the fix: 2.3-4.4 s), and 99 % of the time far below the renewal period.
    expect(maxMs).toBeLessThan(0.8 * TTL_MS - TTL_MS / 3);
    expect(p99Ms).toBeLessThan(TTL_MS / 3 / 2);
  });

  it('drops the excess before it costs anything, and says once per period which peer it throttles', () => {
    const floodSeconds = (drainedAt - floodStartedAt) / 1000;
    for (const v of victims) {
      const c = v.gossip.counters();
      expect(c.received).toBeGreaterThanOrEqual(FLOOD);
      expect(c.dropped.throttled + c.dropped.rateLimited).toBeGreaterThan(FLOOD / 3);
      // What the author's limit lets through: its burst, then 50 a second (plus the victims' own few messages).
      const fromFlooder = v.heard.filter((m) => m.from === flooderPeerId).length;
      expect(fromFlooder).toBeLessThanOrEqual(200 + 50 * (floodSeconds + 1));
      const lines = v.logs.filter((l) => typeof l.msg === 'string' && /throttling a peer/.test(l.msg));
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(Math.ceil(floodSeconds / 10) + 1);
      for (const line of lines) expect(line).toMatchObject({ level: 40, peerId: flooderPeerId, peer: 'host-x' });
    }
  });

  it('honest gossip still gets through during the flood', () => {
    for (const v of victims) {
      const other = victims.find((o) => o !== v)!;
      const during = v.heard.filter((m) => m.message.node === other.node && m.message.sentAt >= systemClock.now() - (wallMonotonic() - floodStartedAt));
      expect(during.length).toBeGreaterThan(0);
    }
  });
});
