import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { execa } from 'execa';
import { rgwConfig } from './rgw-config.js';

/**
 * Starts a throwaway Ceph RADOS Gateway on 127.0.0.1 for the test run: a real
 * S3 server (mon + one memstore OSD + radosgw, no cephx, no mgr). Several
 * checkouts may run their suites on one machine at once, so every start takes
 * its own free ports and its own data directory; `stop()` kills the daemons
 * and removes the directory, and a detached guardian process does the same
 * if this process dies without calling it (no ceph process outlives a run).
 */
export interface RunningRgw {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  dataDir: string;
  /** Seconds from the call to the first signed request answered. */
  startSeconds: number;
  stop(): Promise<void>;
}

export const RGW_PACKAGES = ['ceph-mon', 'ceph-osd', 'radosgw', 'ceph-common'];
const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph'];
const REGION = 'us-east-1';
const MEMSTORE_BYTES = 2 * 1024 ** 3;

/** Why RGW cannot start here, or undefined when it can (installing the packages first if root may). */
export async function rgwUnavailableReason(log: (line: string) => void): Promise<string | undefined> {
  if (await binariesPresent()) return undefined;
  if (process.getuid?.() !== 0) return `Ceph RGW is not installed (${RGW_PACKAGES.join(' ')}) and the tests do not run as root to install it`;
  log(`installing ${RGW_PACKAGES.join(' ')} for the S3 tests (once per machine, ~30 s)`);
  const apt = { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, reject: false } as const;
  // Another checkout may be installing at the same moment: wait for dpkg's lock rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  await execa('apt-get', [...lock, 'update', '-qq'], apt);
  const install = await execa('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...RGW_PACKAGES], apt);
  if (install.exitCode !== 0) return `installing ${RGW_PACKAGES.join(' ')} failed: ${install.stderr.trim().split('\n').at(-1) ?? ''}`;
  return (await binariesPresent()) ? undefined : 'Ceph RGW packages installed but their binaries are missing';
}

async function binariesPresent(): Promise<boolean> {
  const found = await Promise.all(BINARIES.map((b) => execa('sh', ['-c', `command -v ${b}`], { reject: false })));
  return found.every((r) => r.exitCode === 0);
}

/** Brings RGW up; a port taken between choosing and binding (another run) costs a retry with new ports. */
export async function startRgw(log: (line: string) => void): Promise<RunningRgw> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce();
    } catch (error) {
      lastError = error;
      log(`RGW start attempt ${attempt} failed: ${(error as Error).message}`);
    }
  }
  throw lastError;
}

async function startOnce(): Promise<RunningRgw> {
  const started = performance.now();
  const dataDir = await mkdtemp(join(tmpdir(), 'replay-rgw-'));
  const guardian = startGuardian(dataDir);
  const stop = async (): Promise<void> => {
    await killDaemons(dataDir);
    await rm(dataDir, { recursive: true, force: true });
    guardian.kill('SIGKILL');
  };
  try {
    const [monPort, rgwPort] = await freePorts(2);
    const accessKeyId = `test-${randomBytes(6).toString('hex')}`;
    const secretAccessKey = randomBytes(20).toString('hex');
    const conf = join(dataDir, 'ceph.conf');
    for (const sub of ['run', 'log', 'mon.a', 'osd.0', 'rgw']) await mkdir(join(dataDir, sub));
    const fsid = randomUUID();
    await writeFile(conf, rgwConfig({ fsid, dataDir, monPort: monPort!, rgwPort: rgwPort!, memstoreBytes: MEMSTORE_BYTES }));
    const c = ['-c', conf];
    await execa('monmaptool', ['--create', '--clobber', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, join(dataDir, 'monmap')]);
    await execa('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', join(dataDir, 'monmap')]);
    await runDaemonising('ceph-mon', [...c, '-i', 'a'], join(dataDir, 'log', 'mon.a.out')); // writes run/mon.a.pid
    const osdUuid = randomUUID();
    const osdId = (await execa('ceph', [...c, '--connect-timeout', '30', 'osd', 'new', osdUuid], { timeout: 60_000 })).stdout.trim();
    if (osdId !== '0') throw new Error(`unexpected OSD id ${osdId}`);
    await execa('ceph-osd', [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid]);
    await runDaemonising('ceph-osd', [...c, '-i', '0'], join(dataDir, 'log', 'osd.0.out')); // writes run/osd.0.pid
    // radosgw daemonises only after it has connected: run it in the foreground, in its own session, and record its pid.
    const out = openSync(join(dataDir, 'log', 'radosgw.out'), 'a');
    const rgw = spawn('radosgw', [...c, '-n', 'client.rgw.a', '-f'], { detached: true, stdio: ['ignore', out, out] });
    closeSync(out);
    rgw.unref();
    await writeFile(join(dataDir, 'run', 'radosgw.pid'), String(rgw.pid));
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await waitFor('radosgw to answer HTTP', 120_000, () => answersHttp(endpoint), () => rgw.exitCode === null, dataDir);
    await execa('radosgw-admin', [...c, 'user', 'create', '--uid=test', '--display-name=Test User', `--access-key=${accessKeyId}`, `--secret-key=${secretAccessKey}`]);
    const client = new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
    await waitFor('a signed S3 request to succeed', 30_000, async () => {
      try {
        await client.send(new ListBucketsCommand({}));
        return true;
      } catch {
        return false;
      }
    }, () => rgw.exitCode === null, dataDir);
    client.destroy();
    const startSeconds = (performance.now() - started) / 1000;
    return { endpoint, region: REGION, accessKeyId, secretAccessKey, dataDir, startSeconds, stop };
  } catch (error) {
    const logs = await logTail(dataDir);
    await stop();
    throw new Error(`${(error as Error).message}${logs ? `; logs: ${logs}` : ''}`, { cause: error });
  }
}

/** Runs a command that forks a daemon and exits; its output goes to a file so the daemon holds no pipe of ours. */
async function runDaemonising(command: string, args: string[], logFile: string): Promise<void> {
  const out = openSync(logFile, 'a');
  const child = spawn(command, args, { stdio: ['ignore', out, out] });
  closeSync(out);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`${command} exited with ${code}; see ${logFile}`);
}

/**
 * A detached shell that waits for this process to end, then kills the
 * daemons by their pid files and removes the data directory: cleanup even
 * when the test runner is killed. A normal stop() kills it first.
 */
function startGuardian(dataDir: string) {
  const script = `tail --pid=${process.pid} -f /dev/null 2>/dev/null
for p in "$1"/run/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done
sleep 1
rm -rf "$1"`;
  const child = spawn('bash', ['-c', script, 'rgw-guardian', dataDir], { detached: true, stdio: 'ignore' });
  child.unref();
  return child;
}

/** SIGKILL at once: the cluster is throwaway (memstore, RAM only), there is nothing to shut down cleanly. */
async function killDaemons(dataDir: string): Promise<void> {
  const pids = await daemonPids(dataDir);
  for (const pid of pids) signal(pid, 'SIGKILL');
  for (let i = 0; i < 100 && pids.some(alive); i++) await sleep(100);
}

async function daemonPids(dataDir: string): Promise<number[]> {
  const run = join(dataDir, 'run');
  const files = await readdir(run).catch(() => [] as string[]);
  const pids = await Promise.all(files.filter((f) => f.endsWith('.pid')).map(async (f) => Number((await readFile(join(run, f), 'utf8')).trim())));
  return pids.filter((pid) => Number.isInteger(pid) && pid > 1);
}

/** Running, not a zombie (daemons are reparented to an init that may reap them late). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Ports the kernel just handed out as free (they may be taken again before use: the caller retries). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function answersHttp(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${endpoint}/`, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Polls `ready` (there is no event to await from a foreign daemon); fails early when the daemon died. */
async function waitFor(what: string, timeoutMs: number, ready: () => Promise<boolean>, running: () => boolean, dataDir: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await ready()) return;
    if (!running()) throw new Error(`radosgw exited while waiting for ${what}; see ${dataDir}/log`);
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function logTail(dataDir: string): Promise<string> {
  const parts: string[] = [];
  for (const file of ['radosgw.out', 'osd.0.log', 'mon.a.log']) {
    const text = await readFile(join(dataDir, 'log', file), 'utf8').catch(() => '');
    const last = text.trim().split('\n').slice(-3).join(' | ');
    if (last) parts.push(`${file}: ${last}`);
  }
  return parts.join('; ').slice(0, 2000);
}
