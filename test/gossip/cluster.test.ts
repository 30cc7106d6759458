import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSwarmKey } from '../../src/gossip/swarm-key.js';
import type { DriverConfig } from './support/member-driver.js';
import { MemberProcess } from './support/member-process.js';
import { until } from '../support/until.js';

/**
 * Real member processes on 127.0.0.1 sharing a swarm key. Their only way to
 * find each other is the directory of member records (the stand-in for the
 * run's node records in the store): no bootstrap addresses.
 */
const RUN = 'cluster-run';
const FIVE = ['n1', 'n2', 'n3', 'n4', 'n5'];
const spawned: MemberProcess[] = [];
let root: string;
let membersDir: string;
/** Records only n1 reads: lets a forger be a member in n1's eyes and nobody else's. */
let n1OnlyDir: string;
let swarmKey: string;
let otherKey: string;

const itemOf = (i: number): string => `${String(i * 1000).padStart(10, '0')}-${String((i + 1) * 1000).padStart(10, '0')}`;
const progressOf = (i: number) => ({ state: 'working', items: [{ item: itemOf(i), headBlock: i * 1000 + 17, blocksPerSecond: 100 + i }] });

function start(node: string, overrides: Partial<DriverConfig> = {}): MemberProcess {
  const member = new MemberProcess({ run: RUN, node, dataDir: join(root, 'data', node), membersDir, swarmKeyFile: swarmKey, ...overrides });
  spawned.push(member);
  return member;
}

const cluster = (): MemberProcess[] => spawned.filter((m) => FIVE.includes(m.node));
const heardFrom = (member: MemberProcess, node: string): number => member.messages().filter((m) => m.message.node === node).length;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'gossip-cluster-'));
  membersDir = join(root, 'members');
  n1OnlyDir = join(root, 'n1-only');
  await mkdir(membersDir);
  await mkdir(n1OnlyDir);
  swarmKey = join(root, 'swarm.key');
  otherKey = join(root, 'other.key');
  await writeFile(swarmKey, generateSwarmKey());
  await writeFile(otherKey, generateSwarmKey());
  for (const node of FIVE) start(node, node === 'n1' ? { readDirs: [membersDir, n1OnlyDir] } : {});
  await Promise.all(cluster().map((m) => m.ready()));
  cluster().forEach((member, i) => member.send({ cmd: 'progress', progress: progressOf(i) }));
});

afterAll(async () => {
  await Promise.all(spawned.map((m) => m.stop().catch(() => m.kill())));
  if (root) await rm(root, { recursive: true, force: true });
});

describe('gossip between member processes', () => {
  it('five members discover each other from the member records alone, with one connection per pair', async () => {
    const members = cluster();
    await Promise.all(members.flatMap((member) =>
      members.filter((other) => other !== member).map((other) => member.heard(other.node, (m) => m.message.type === 'progress')),
    ));
    members.forEach((member) => {
      members.forEach((other, i) => {
        if (other === member) return;
        const progress = member.messages().find((m) => m.message.node === other.node && m.message.type === 'progress')!;
        expect(progress.from).toBe(other.peerId);
        expect(progress.message).toMatchObject({ run: RUN, ...progressOf(i) });
      });
    });
    // Only the lower peer id of each pair dials, so no pair keeps two connections (a transient
    // second one, from a redial racing an inbound connection on a loaded machine, is closed).
    const counters = await until(() => Promise.all(members.map((m) => m.counters())), (cs) => cs.every((c) => c.connections === 4), 'one connection per pair', 15_000);
    // Nothing malformed, forged or over the limits. (A few nonMember drops are fine: a member that learns
    // of another a moment later, on a loaded machine, drops what that one published first.)
    for (const c of counters) expect({ ...c.dropped, nonMember: 0 }).toEqual({ nonMember: 0, oversized: 0, malformed: 0, impersonation: 0, rateLimited: 0, throttled: 0, unsigned: 0 });
  });

  it('a late joiner receives every live node\'s progress within a few seconds, and its leaving is heard', async () => {
    const late = start('late');
    await late.ready();
    late.send({ cmd: 'progress', progress: progressOf(9) });
    // "Within a few seconds": each wait fails after 5 s.
    await Promise.all(FIVE.map((node) => late.heard(node, (m) => m.message.type === 'progress', 5_000)));
    await Promise.all(cluster().map((m) => m.heard('late', (l) => l.message.type === 'progress')));

    await late.stop();
    await Promise.all(cluster().map((m) => m.heard('late', (l) => l.message.type === 'event' && l.message.event === 'leaving')));
    await rm(join(membersDir, 'late.json'));
  });

  it('a member with a different swarm key is kept out, and the failed handshake says "swarm key mismatch?"', async () => {
    const outsider = start('wrong-key', { swarmKeyFile: otherKey, tuning: { dialPolicy: { minBackoffMs: 300, maxBackoffMs: 1_000, fallbackMs: 500 } } });
    await outsider.ready();
    outsider.send({ cmd: 'progress', progress: progressOf(7) });
    // Its record is listed, so whichever side has the lower peer id dials, and fails.
    await Promise.race([outsider, ...cluster()].map((m) => m.logged(/swarm key mismatch\?/)));
    await until(() => outsider.counters(), (c) => c.handshakeFailures >= 2, 'the outsider to fail a second handshake');
    const counters = await outsider.counters();
    expect(counters).toMatchObject({ connections: 0, received: 0 });
    expect(outsider.messages()).toEqual([]);
    for (const member of cluster()) expect(heardFrom(member, 'wrong-key')).toBe(0);
    await outsider.stop();
    await rm(join(membersDir, 'wrong-key.json'));
  });

  it('a stranger without a member record is refused by every member and hears nothing', async () => {
    const before = await Promise.all(cluster().map((m) => m.counters()));
    // It knows the members' addresses (it can read the records) and dials them all.
    const stranger = start('stranger', { unlisted: true, tuning: { dialPolicy: { minBackoffMs: 300, maxBackoffMs: 1_000, fallbackMs: 0 } } });
    await stranger.ready();
    stranger.send({ cmd: 'progress', progress: progressOf(8) });
    await Promise.all(cluster().map((member, i) =>
      until(() => member.counters(), (c) => c.refusedConnections > before[i]!.refusedConnections, `${member.node} to refuse the stranger`),
    ));
    expect(stranger.messages()).toEqual([]);
    expect((await stranger.counters()).received).toBe(0);
    for (const member of cluster()) expect(heardFrom(member, 'stranger')).toBe(0);
    await stranger.stop();
  });

  it('a forged message (valid signature, author not a member) relayed by a member is dropped and counted', async () => {
    // n1 believes the forger is a member (its record is in a directory only n1 reads), so n1 connects to it and
    // relays what it signs; the other four see a valid signature from a peer without a record of theirs.
    const forger = start('forger', { membersDir: n1OnlyDir, readDirs: [membersDir, n1OnlyDir] });
    await forger.ready();
    forger.send({ cmd: 'progress', progress: progressOf(6) });
    const [n1, ...others] = cluster();
    await n1!.heard('forger', (m) => m.message.type === 'progress');
    await Promise.all(others.map((member) =>
      until(() => member.counters(), (c) => c.dropped.nonMember > 0, `${member.node} to drop the forged message`),
    ));
    for (const member of others) expect(heardFrom(member, 'forger')).toBe(0);
    await forger.stop();
  });
});
