import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/runner/nodeos/config.js';
import { simBlockId, simIntegrityHash } from '../../src/runner/sim-chain.js';
import { BAD_SNAPSHOT_KINDS, badSnapshot, badSnapshotMessage, CHAIN, FAKE_NODEOS, fakeSnapshot, SNAPSHOT_MAGIC } from './support/nodeos-world.js';
import { wallMonotonic, wallTimer } from '../support/wall-clock.js';

/**
 * The fake nodeos (test/fixtures/fake-nodeos/nodeos.cjs) against the
 * contract of the real one (AntelopeIO/spring), spawned directly: exit codes
 * and messages of its refusals, the start-up order, the log format, HTTP
 * closing before the stop hash, the fork database across restarts, the
 * dirty flag, the Host check and get_block.
 */

/** One line of libfc's console appender: level(5) time thread(9) file:line(29) method(20) `] `. */
const LINE = /^(info |warn |error) \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} nodeos {4}.{29} .{20} \] /;

interface Line {
  text: string;
  at: number;
}

class Fake {
  readonly lines: Line[] = [];
  stdout = '';
  readonly closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';
  private waiters: { re: RegExp; resolve: (line: string) => void }[] = [];

  constructor(readonly child: ChildProcess) {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      for (const text of parts) {
        this.lines.push({ text, at: wallMonotonic() });
        this.waiters = this.waiters.filter((w) => (w.re.test(text) ? (w.resolve(text), false) : true));
      }
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.closed = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  }

  get log(): string {
    return this.lines.map((l) => l.text).join('\n');
  }

  /** Resolves with the first line matching `re` (already seen or still to come); rejects if nodeos exits first. */
  waitFor(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l.text));
    if (seen) return Promise.resolve(seen.text);
    return new Promise((resolve, reject) => {
      const timer = wallTimer(() => reject(new Error(`timed out waiting for ${re}\n${this.log}`)), timeoutMs);
      this.waiters.push({ re, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      void this.closed.then(() => {
        clearTimeout(timer);
        const late = this.lines.find((l) => re.test(l.text));
        if (late) resolve(late.text);
        else reject(new Error(`nodeos exited before ${re}\n${this.log}`));
      });
    });
  }

  /** Index of the first line containing `text`, -1 if none. */
  index(text: string | RegExp): number {
    return this.lines.findIndex((l) => (typeof text === 'string' ? l.text.includes(text) : text.test(l.text)));
  }

  lineAt(text: string | RegExp): Line {
    const i = this.index(text);
    expect(i, `no line ${text}\n${this.log}`).toBeGreaterThanOrEqual(0);
    return this.lines[i]!;
  }

  count(text: string): number {
    return this.lines.filter((l) => l.text.includes(text)).length;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
}

let dir: string;
let dataDir: string;
let configDir: string;
const running: Fake[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fake-nodeos-'));
  dataDir = join(dir, 'data');
  configDir = join(dir, 'config');
  await mkdir(configDir, { recursive: true });
});
afterEach(async () => {
  for (const fake of running.splice(0)) fake.child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});


async function writeConfig(port: number, extra: string[] = [], name = 'config.ini'): Promise<void> {
  const lines = [
    `http-server-address = 127.0.0.1:${port}`,
    'plugin = eosio::chain_api_plugin',
    'plugin = eosio::producer_api_plugin',
    'plugin = eosio::net_plugin',
    'verbose-http-errors = true',
    'contracts-console = true',
    ...extra,
  ];
  await writeFile(join(configDir, name), `# test config\n${lines.join('\n')}\n`);
}

async function writeSnapshot(bytes: Buffer, name = 'snapshot.bin'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, bytes);
  return file;
}

function start(args: string[], env: Record<string, string> = {}): Fake {
  const child = spawn(process.execPath, [FAKE_NODEOS, '--data-dir', dataDir, `--config-dir=${configDir}`, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: dir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const fake = new Fake(child);
  running.push(fake);
  return fake;
}

interface Reply {
  status: number;
  body: unknown;
}

function post(port: number, path: string, body = '', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function readState(): Promise<{ dirty: boolean; head: number }> {
  return JSON.parse(await readFile(join(dataDir, 'state', 'shared_memory.bin'), 'utf8')) as { dirty: boolean; head: number };
}

const FAST = { FAKE_NODEOS_BPS: '20000' };

describe('fake nodeos: start-up, syncing and shutdown', () => {
  it('replays a snapshot to --terminate-at-block in the real order and log format, then exits 0 with a clean state', async () => {
    const port = await freePort();
    await writeConfig(port);
    const snap = await writeSnapshot(fakeSnapshot(100));
    const fake = start(['--snapshot', snap, '--terminate-at-block', '2100', '--integrity-hash-on-start', '--integrity-hash-on-stop'], FAST);
    expect((await fake.closed).code).toBe(0);

    for (const line of fake.lines) expect(line.text, fake.log).toMatch(LINE);
    const order = [
      'nodeos started',
      'Starting initialization from snapshot and no block log, this may take a significant amount of time',
      `Snapshot loaded, head: 100 : ${simBlockId(CHAIN, 100)}`,
      `chain database started with hash: ${simIntegrityHash(CHAIN, 100)}`,
      'Blockchain started; head block is #100',
      `start listening on 127.0.0.1:${port} resolved from 127.0.0.1:${port} for API categories: all`,
      '... #1000 @',
      '... #2000 @',
      'Block 2100 reached configured maximum block 2100; terminating',
      'appbase quit called',
      `chain database stopped with hash: ${simIntegrityHash(CHAIN, 2100)}`,
      'nodeos successfully exiting',
    ].map((text) => fake.index(text));
    expect(order.every((i) => i >= 0), fake.log).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));

    // log_applied: syncing old blocks logs every 1000th block only, with id.substr(8, 16).
    const received = fake.lines.filter((l) => l.text.includes('Received block'));
    expect(received.map((l) => /#(\d+) @/.exec(l.text)![1])).toEqual(['1000', '2000']);
    expect(received[0]!.text).toMatch(new RegExp(
      `controller\\.cpp:3637 +log_applied +\\] Received block ${simBlockId(CHAIN, 1000).slice(8, 24)}\\.\\.\\. #1000 @ 2018-06-09T00:08:20\\.000 `
      + 'signed by eosio \\[trxs: 0, lib: 999, net: 0, cpu: 0 us, elapsed: 0 us, applying time: 0 us, latency: \\d+ ms\\]$',
    ));
    expect(fake.lineAt('nodeos started').text).toMatch(/^info {2}\S+ nodeos {4}main\.cpp:158 {18}main {17}\] nodeos started$/);
    expect(await readState()).toMatchObject({ dirty: false, head: 2100 });
  });

  it('is silent and closed while the snapshot loads and while the start hash is computed', async () => {
    const port = await freePort();
    await writeConfig(port);
    const snap = await writeSnapshot(fakeSnapshot(100));
    const fake = start(['--snapshot', snap, '--integrity-hash-on-start'], { FAKE_NODEOS_LOAD_MS: '800', FAKE_NODEOS_START_HASH_MS: '400' });
    await fake.waitFor(/Starting initialization from snapshot/);
    await expect(post(port, '/v1/chain/get_info')).rejects.toThrow(/ECONNREFUSED/);
    await fake.waitFor(/start listening on/);
    const loading = fake.lineAt('Starting initialization from snapshot');
    const loaded = fake.lineAt('Snapshot loaded, head: 100');
    const hashed = fake.lineAt('chain database started with hash');
    expect(fake.index('Snapshot loaded')).toBe(fake.index('Starting initialization') + 1);
    expect(fake.index('chain database started with hash')).toBe(fake.index('Snapshot loaded') + 1);
    expect(loaded.at - loading.at).toBeGreaterThanOrEqual(700);
    expect(hashed.at - loaded.at).toBeGreaterThanOrEqual(300);
    expect((await post(port, '/v1/chain/get_info')).status).toBe(200);
    fake.signal('SIGINT');
    expect((await fake.closed).code).toBe(0);
  });

  it('closes HTTP at once on reaching the end, while the stop hash is still being computed', async () => {
    const port = await freePort();
    await writeConfig(port);
    const snap = await writeSnapshot(fakeSnapshot(100));
    const fake = start(['--snapshot', snap, '--terminate-at-block=700', '--integrity-hash-on-stop'], {
      FAKE_NODEOS_BPS: '1000', FAKE_NODEOS_STOP_HASH_MS: '1000', FAKE_NODEOS_HASH_DELAY_MS: '10000',
    });
    await fake.waitFor(/start listening on/);
    // In flight across the end: nodeos drops it when its HTTP thread pool stops.
    const inFlight = post(port, '/v1/producer/get_integrity_hash', '{}').then(() => 'answered', (e: Error) => e.message);
    const terminating = await fake.waitFor(/reached configured maximum block 700; terminating/);
    expect(terminating).toMatch(/controller\.cpp:5101 +should_terminate/);
    await fake.waitFor(/appbase quit called/);
    expect(await inFlight).toMatch(/socket hang up|ECONNRESET/);
    await expect(post(port, '/v1/chain/get_info')).rejects.toThrow(/ECONNREFUSED/);
    expect(fake.index('chain database stopped with hash')).toBe(-1);
    expect(fake.child.exitCode).toBeNull();

    const stopped = await fake.waitFor(/chain database stopped with hash/);
    expect(stopped).toContain(simIntegrityHash(CHAIN, 700));
    expect(fake.lineAt('chain database stopped').at - fake.lineAt('reached configured maximum block').at).toBeGreaterThanOrEqual(800);
    expect((await fake.closed).code).toBe(0);
  });

  it('a second SIGINT or a SIGTERM during shutdown is ignored: quit is idempotent', async () => {
    const port = await freePort();
    await writeConfig(port);
    const snap = await writeSnapshot(fakeSnapshot(100));
    const fake = start(['--snapshot', snap, '--terminate-at-block', '100000', '--integrity-hash-on-stop'], {
      FAKE_NODEOS_BPS: '200', FAKE_NODEOS_STOP_HASH_MS: '800',
    });
    await fake.waitFor(/start listening on/);
    fake.signal('SIGINT');
    await fake.waitFor(/appbase quit called/);
    fake.signal('SIGINT');
    fake.signal('SIGTERM');
    expect((await fake.closed)).toEqual({ code: 0, signal: null });
    expect(fake.count('appbase quit called')).toBe(1);
    expect(fake.count('chain database stopped with hash')).toBe(1);
    expect(fake.index('nodeos successfully exiting')).toBeGreaterThan(fake.index('chain database stopped with hash'));
    expect(fake.index('reached configured maximum block')).toBe(-1);
    expect(await readState()).toMatchObject({ dirty: false });
  });

  it('the state is dirty while nodeos runs; after a SIGKILL the next start exits 2', async () => {
    const port = await freePort();
    await writeConfig(port);
    const snap = await writeSnapshot(fakeSnapshot(100));
    const first = start(['--snapshot', snap, '--terminate-at-block', '100000'], { FAKE_NODEOS_BPS: '200' });
    await first.waitFor(/start listening on/);
    expect(await readState()).toMatchObject({ dirty: true });
    first.signal('SIGKILL');
    expect((await first.closed).signal).toBe('SIGKILL');

    const second = start([]);
    expect((await second.closed).code).toBe(2);
    expect(second.lineAt('database dirty flag set (likely due to unclean shutdown): replay required').text)
      .toMatch(/^error \S+ nodeos {4}main\.cpp:222 +main +\] /);
    expect(second.index('start listening')).toBe(-1);
    expect(await readState()).toMatchObject({ dirty: true });
  });

  it('fork database blocks past the end are kept and applied by the next start', async () => {
    const port = await freePort();
    await writeConfig(port, ['p2p-peer-address = 127.0.0.1:9876']);
    await writeConfig(port, ['read-mode = head', 'p2p-accept-transactions = false', 'api-accept-transactions = false'], 'readonly.ini');
    const snap = await writeSnapshot(fakeSnapshot(100));
    const replay = start(['--snapshot', snap, '--terminate-at-block', '300', '--integrity-hash-on-stop'], FAST);
    expect((await replay.closed).code).toBe(0);
    expect(replay.log).toContain(`chain database stopped with hash: ${simIntegrityHash(CHAIN, 300)}`);
    expect(replay.log).toContain(`Writing fork_database 3 blocks with root 299:${simBlockId(CHAIN, 299)} and head 302:${simBlockId(CHAIN, 302)}`);
    expect(replay.index('Removing blocks past truncate-at-block')).toBe(-1);

    const readOnly = start(['--config', 'readonly.ini']);
    await readOnly.waitFor(/start listening on/);
    expect(readOnly.log).toContain('fork database contains 2 blocks after head from 300 to 302');
    const info = (await post(port, '/v1/chain/get_info')).body as Record<string, unknown>;
    expect(info).toMatchObject({ head_block_num: 302, head_block_id: simBlockId(CHAIN, 302) });
    expect((await post(port, '/v1/producer/get_integrity_hash')).body).toEqual({ head_block_id: simBlockId(CHAIN, 302), integrity_hash: simIntegrityHash(CHAIN, 302) });
    readOnly.signal('SIGINT');
    expect((await readOnly.closed).code).toBe(0);
  });

  it('with --truncate-at-block equal to the end, the blocks past it are removed from the fork database', async () => {
    const port = await freePort();
    await writeConfig(port, ['p2p-peer-address = 127.0.0.1:9876']);
    await writeConfig(port, ['read-mode = head'], 'readonly.ini');
    const snap = await writeSnapshot(fakeSnapshot(100));
    const replay = start(['--snapshot', snap, '--terminate-at-block', '300', '--truncate-at-block', '300', '--integrity-hash-on-stop'], FAST);
    expect((await replay.closed).code).toBe(0);
    const removing = replay.index('Removing blocks past truncate-at-block 300 from fork database with head at 302');
    expect(removing).toBeGreaterThan(replay.index('appbase quit called'));
    expect(removing).toBeLessThan(replay.index('chain database stopped with hash'));
    expect(replay.lineAt('Removing blocks past').text).toMatch(/controller\.cpp:2158 /);
    expect(replay.log).toContain(`Writing fork_database 1 blocks with root 299:${simBlockId(CHAIN, 299)} and head 300:${simBlockId(CHAIN, 300)}`);

    const readOnly = start(['--config', 'readonly.ini']);
    await readOnly.waitFor(/start listening on/);
    expect(readOnly.index('fork database contains')).toBe(-1);
    expect(((await post(port, '/v1/chain/get_info')).body as Record<string, unknown>).head_block_num).toBe(300);
    expect(((await post(port, '/v1/producer/get_integrity_hash')).body as Record<string, unknown>).integrity_hash).toBe(simIntegrityHash(CHAIN, 300));
    readOnly.signal('SIGINT');
    expect((await readOnly.closed).code).toBe(0);
  });

  it('FAKE_NODEOS_BLOCK_LOG_REPLAY replays the block log before HTTP, which never opens', async () => {
    const port = await freePort();
    await writeConfig(port);
    const snap = await writeSnapshot(fakeSnapshot(100));
    const fake = start(['--snapshot', snap, '--terminate-at-block', '1600', '--integrity-hash-on-start', '--integrity-hash-on-stop'], {
      ...FAST, FAKE_NODEOS_BLOCK_LOG_REPLAY: '1',
    });
    expect((await fake.closed).code).toBe(0);
    const order = [
      `chain database started with hash: ${simIntegrityHash(CHAIN, 100)}`,
      'existing block log, attempting to replay from 101 to 1600 blocks',
      '] 500 of 1600',
      '] 1000 of 1600',
      '] 1500 of 1600',
      'Block 1600 reached configured maximum block 1600; terminating',
      'appbase quit called',
      'quitting from replay_block_log because of shutdown',
      '1500 irreversible blocks replayed from block log, chain head 1600',
      'quitting from replay because of shutdown',
      `chain database stopped with hash: ${simIntegrityHash(CHAIN, 1600)}`,
      'nodeos successfully exiting',
    ].map((text) => fake.index(text));
    expect(order.every((i) => i >= 0), fake.log).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(fake.index('start listening')).toBe(-1);
    expect(fake.index('Received block')).toBe(-1);
  });

  it('starts from a genesis file with its chain id', async () => {
    const port = await freePort();
    await writeConfig(port);
    const genesis = join(dir, 'genesis.json');
    await writeFile(genesis, JSON.stringify({ chain_id: 'gen-chain', initial_timestamp: '2018-06-08T08:08:08.888' }));
    const fake = start(['--genesis-json', genesis, '--terminate-at-block', '50', '--integrity-hash-on-start', '--integrity-hash-on-stop'], FAST);
    expect((await fake.closed).code).toBe(0);
    expect(fake.log).toContain(`Using genesis state provided in '${genesis}'`);
    expect(fake.log).toContain('Blockchain started; head block is #0, genesis timestamp is 2018-06-08T08:08:08.888');
    expect(fake.log).toContain(`chain database started with hash: ${simIntegrityHash('gen-chain', 0)}`);
    expect(fake.log).toContain(`chain database stopped with hash: ${simIntegrityHash('gen-chain', 50)}`);
  });

  it('--version and --full-version print on stdout and exit 0', async () => {
    const v = start(['--version'], { FAKE_NODEOS_VERSION: '4.1.0' });
    expect((await v.closed).code).toBe(0);
    expect(v.stdout).toBe('v4.1.0\n');
    const full = start(['--full-version']);
    expect((await full.closed).code).toBe(0);
    expect(full.stdout).toMatch(/^v5\.0\.2-[0-9a-f]{40}\n$/);
  });
});

describe('fake nodeos: refusals, as the real nodeos refuses', () => {
  for (const kind of BAD_SNAPSHOT_KINDS) {
    it(`refuses a snapshot (${kind}) with its message and exit 254, before HTTP`, async () => {
      const port = await freePort();
      await writeConfig(port);
      const bytes = badSnapshot(kind);
      const fake = start(['--snapshot', await writeSnapshot(bytes), '--terminate-at-block', '300']);
      expect((await fake.closed).code).toBe(254);
      const message = badSnapshotMessage(kind, bytes);
      // main.cpp: elog("${e}", e.to_detail_string()), the message on the line after the exception's name.
      const error = fake.index(/^error \S+ nodeos {4}main\.cpp:229 +main +\] \d+ \w+: /);
      expect(error, fake.log).toBeGreaterThanOrEqual(0);
      expect(fake.lines[error + 1]!.text).toBe(message);
      expect(fake.index('start listening')).toBe(-1);
      if (kind === 'head-zero') {
        expect(fake.index('Starting initialization from snapshot')).toBeLessThan(error);
        expect(fake.lines[error]!.text).toMatch(/3240000 snapshot_exception: Snapshot exception$/);
      } else {
        expect(fake.index('Starting initialization from snapshot')).toBe(-1);
        expect(fake.log).toContain('appbase: exception thrown during plugin "eosio::chain_api_plugin" initialization.');
      }
    });
  }

  it('refuses a snapshot on existing state, naming the state directory', async () => {
    const port = await freePort();
    await writeConfig(port);
    const snap = await writeSnapshot(fakeSnapshot(100));
    expect((await start(['--snapshot', snap, '--terminate-at-block', '200'], FAST).closed).code).toBe(0);
    const again = start(['--snapshot', snap, '--terminate-at-block', '200']);
    expect((await again.closed).code).toBe(254);
    expect(again.log).toContain(`3110006 plugin_config_exception: Incorrect plugin configuration\nSnapshot can only be used to initialize an empty database, remove directory: ${join(dataDir, 'state')}`);
    expect(again.index('Starting initialization')).toBe(-1);
  });

  it('refuses --snapshot with --genesis-json', async () => {
    const port = await freePort();
    await writeConfig(port);
    const genesis = join(dir, 'genesis.json');
    await writeFile(genesis, JSON.stringify({ chain_id: CHAIN }));
    const fake = start(['--snapshot', await writeSnapshot(fakeSnapshot(100)), '--genesis-json', genesis]);
    expect((await fake.closed).code).toBe(254);
    expect(fake.log).toContain('--snapshot is incompatible with --genesis-json as the snapshot contains genesis information');
  });

  it('refuses --terminate-at-block at or below the snapshot head, after loading it', async () => {
    const port = await freePort();
    await writeConfig(port);
    const fake = start(['--snapshot', await writeSnapshot(fakeSnapshot(100)), '--terminate-at-block', '100', '--integrity-hash-on-start']);
    expect((await fake.closed).code).toBe(254);
    const error = fake.index('--terminate-at-block 100 not greater than chain head 100');
    expect(error).toBeGreaterThan(fake.index('Snapshot loaded, head: 100'));
    expect(fake.index('chain database started with hash')).toBe(-1);
    expect(fake.index('start listening')).toBe(-1);
  });

  it('refuses --truncate-at-block different from --terminate-at-block', async () => {
    const port = await freePort();
    await writeConfig(port);
    const fake = start(['--snapshot', await writeSnapshot(fakeSnapshot(100)), '--terminate-at-block', '200', '--truncate-at-block=150']);
    expect((await fake.closed).code).toBe(254);
    expect(fake.log).toContain('truncate-at-block 150 must match terminate-at-block 200');
    expect(fake.index('Starting initialization')).toBe(-1);
  });

  it('an unknown command-line option, or a value given to a switch, is fatal (254)', async () => {
    const port = await freePort();
    await writeConfig(port);
    const unknown = start(['--no-such-flag=1']);
    expect((await unknown.closed).code).toBe(254);
    expect(unknown.lineAt("std::exception::what: Unknown option '--no-such-flag' passed as command line argument").text).toBeTruthy();
    expect(unknown.lineAt(/main\.cpp:235 +main +\] .*application_base\.cpp\(248\): Throw in function/).text).toMatch(/^error /);
    expect(unknown.log).toContain('Dynamic exception type: boost::wrapexcept<std::runtime_error>');

    const switchValue = start(['--integrity-hash-on-stop=true']);
    expect((await switchValue.closed).code).toBe(254);
    expect(switchValue.log).toContain("std::exception::what: option '--integrity-hash-on-stop' does not take any arguments");
  });

  it('an unknown config.ini key is fatal (254); --terminate-at-block is command-line only', async () => {
    const port = await freePort();
    await writeConfig(port, ['no-such-key = 1']);
    const unknown = start([]);
    expect((await unknown.closed).code).toBe(254);
    expect(unknown.log).toContain(`std::exception::what: Unknown option 'no-such-key' inside the config file ${join(configDir, 'config.ini')}`);

    await writeConfig(port, ['terminate-at-block = 500']);
    const cliOnly = start([]);
    expect((await cliOnly.closed).code).toBe(254);
    expect(cliOnly.log).toContain("Unknown option 'terminate-at-block' inside the config file");
  });

  it('a missing --config file exits 255', async () => {
    const fake = start(['--config', 'other.ini']);
    expect((await fake.closed).code).toBe(255);
    expect(fake.log).toContain(`Config file "${join(configDir, 'other.ini')}" missing.`);
  });
});

describe('fake nodeos: HTTP API', () => {
  it('get_info, get_block, create_snapshot, the Host check and unknown endpoints answer like nodeos', async () => {
    const port = await freePort();
    await writeConfig(port);
    const fake = start(['--snapshot', await writeSnapshot(fakeSnapshot(100)), '--terminate-at-block', '100000'], { FAKE_NODEOS_BPS: '100' });
    await fake.waitFor(/start listening on/);

    const info = await post(port, '/v1/chain/get_info');
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ chain_id: CHAIN, server_version_string: 'v5.0.2', head_block_producer: 'eosio' });
    const head = (info.body as { head_block_num: number }).head_block_num;
    expect(head).toBeGreaterThanOrEqual(100);

    const block = await post(port, '/v1/chain/get_block', JSON.stringify({ block_num_or_id: 100 }));
    expect(block.status).toBe(200);
    expect(block.body).toMatchObject({
      id: simBlockId(CHAIN, 100), block_num: 100, previous: simBlockId(CHAIN, 99), producer: 'eosio', timestamp: '2018-06-09T00:00:50.000', transactions: [],
    });
    const byId = await post(port, '/v1/chain/get_block', JSON.stringify({ block_num_or_id: simBlockId(CHAIN, 100) }));
    expect((byId.body as { block_num: number }).block_num).toBe(100);
    expect(await post(port, '/v1/chain/get_block', JSON.stringify({ block_num_or_id: 99_999 }))).toEqual({
      status: 400,
      body: {
        code: 400,
        message: 'Unknown Block',
        error: {
          code: 3100002, name: 'unknown_block_exception', what: 'Unknown block',
          details: [{ message: 'Could not find block: 99999', file: 'chain_plugin.cpp', line_number: 1973, method: 'get_raw_block' }],
        },
      },
    });
    expect((await post(port, '/v1/chain/get_block')).body).toMatchObject({ code: 400, message: 'Invalid Request' });

    // http-validate-host (default true): a host name that is not the configured address is refused.
    const refused = { status: 400, body: { code: 400, message: 'Disallowed HTTP HOST header in the request', error: { code: 0, name: '', what: '', details: [] } } };
    expect(await post(port, '/v1/chain/get_info', '', { Host: `localhost:${port}` })).toEqual(refused);
    expect((await post(port, '/v1/chain/get_info', '', { Host: `127.0.0.1:${port}` })).status).toBe(200);

    expect(await post(port, '/v1/chain/nope')).toMatchObject({ status: 404, body: { code: 404, message: 'Not Found', error: { details: [{ message: 'Unknown Endpoint' }] } } });

    const snap = await post(port, '/v1/producer/create_snapshot');
    expect(snap.status).toBe(201);
    const made = snap.body as { snapshot_name: string; head_block_num: number; version: number };
    expect(made.version).toBe(8);
    const bytes = await readFile(made.snapshot_name);
    expect([bytes.readUInt32LE(0), bytes.readUInt32LE(4), bytes.readUInt32LE(8), bytes.readUInt32LE(12)]).toEqual([SNAPSHOT_MAGIC, 1, 8, bytes.length - 16]);
    expect(JSON.parse(bytes.subarray(16).toString('utf8').split('\n')[0]!)).toEqual({ chain_id: CHAIN, head_block_num: made.head_block_num });

    fake.signal('SIGTERM');
    expect((await fake.closed).code).toBe(0);
  });

  it('with http-validate-host = false any Host is accepted', async () => {
    const port = await freePort();
    await writeConfig(port, ['http-validate-host = false']);
    const fake = start(['--snapshot', await writeSnapshot(fakeSnapshot(100))]);
    await fake.waitFor(/start listening on/);
    expect((await post(port, '/v1/chain/get_info', '', { Host: 'example.com' })).status).toBe(200);
    fake.signal('SIGINT');
    expect((await fake.closed).code).toBe(0);
  });
});
