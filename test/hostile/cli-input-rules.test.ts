import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBuiltCli } from '../support/cli.js';

/**
 * Issue 19: bad input to any command is one line with the rule, exit 2
 * (not `RangeError: invalid run id`, `Error: Region is missing` or a pino
 * stack, exit 1). Every option that takes a run id, a node id, a log
 * level, a host, a port or a duration, through the real CLIs.
 */
type Cli = 'replay-node' | 'replay-manifest' | 'replay-observer';

let dir: string;
let store: string;
let spacing: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-input-'));
  store = `file://${join(dir, 'store')}`;
  spacing = join(dir, 'spacing.tsv');
  await writeFile(spacing, '0\t100\t100\n100\t200\t100\n');
  const published = await runBuiltCli('replay-manifest', ['publish', '--store', store, '--run', 'r1', '--spacing', spacing, '--lease-ttl-ms', '60000']);
  expect(published.exitCode, published.stderr).toBe(0);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const RUN_RULE = 'is not a valid run id; use letters, digits, ".", "_" and "-" (at most 128, starting with a letter or digit)';
const REGION = 's3://bucket/x?region=';
const REGION_RULE = 'StoreConfig: store URL s3://bucket/x?region=: region is empty; give one (region=us-east-1) or leave the parameter out; the form is s3://bucket/prefix?endpoint=http://host:port&region=us-east-1';
const LEVELS = 'trace, debug, info, warn, error, fatal, silent';
const DURATION = (min: number) => `It must be whole milliseconds from ${min} to 2147483647 (24.8 days).`;
const joinArgs = (...extra: string[]) => ['join', '--store', () => store, '--run', 'r1', '--runner', 'sim', '--no-gossip', '--data-dir', () => join(dir, 'data'), ...extra];

/** [cli, args (a function: a path known only once the suite runs), env, the one stderr line] */
const cases: Array<[string, Cli, Array<string | (() => string)>, Record<string, string>, string]> = [
  ['join --run with a space', 'replay-node', ['join', '--store', () => store, '--run', 'a b', '--runner', 'sim'], {}, `replay-node: --run "a b" ${RUN_RULE}`],
  ['pause --run with a space', 'replay-node', ['pause', '--store', () => store, '--run', 'a b', '--all'], {}, `replay-node: --run "a b" ${RUN_RULE}`],
  ['resume --run with a space', 'replay-node', ['resume', '--store', () => store, '--run', 'a b', '--all'], {}, `replay-node: --run "a b" ${RUN_RULE}`],
  ['drain --run with a space', 'replay-node', ['drain', '--store', () => store, '--run', 'a b', '--node', 'n1'], {}, `replay-node: --run "a b" ${RUN_RULE}`],
  ['status --run with a space', 'replay-node', ['status', '--store', () => store, '--run', 'a b'], {}, `replay-node: --run "a b" ${RUN_RULE}`],
  ['observer serve --run with a space', 'replay-observer', ['serve', '--store', () => store, '--run', 'a b', '--no-gossip'], {}, `replay-observer: --run "a b" ${RUN_RULE}`],
  ['manifest show --run with a space', 'replay-manifest', ['show', '--store', () => store, '--run', 'a b'], {}, `replay-manifest: --run "a b" ${RUN_RULE}`],
  ['join --node with a space', 'replay-node', joinArgs('--node', 'a b'), {}, `replay-node: --node "a b" is not a usable node id; use letters, digits, '.', '_' or '-' (not "all")`],
  ['pause --node with a space', 'replay-node', ['pause', '--store', () => store, '--run', 'r1', '--node', 'a b'], {}, 'replay-node: --node "a b" is not a node id'],
  ['observer serve --id with a space', 'replay-observer', ['serve', '--store', () => store, '--id', 'a b', '--no-gossip'], {}, 'replay-observer: --id "a b" is not a valid id; use letters, digits, ".", "_" and "-"'],
  ['join --log-level loud', 'replay-node', joinArgs('--log-level', 'loud'), {}, `error: option '--log-level <level>' argument 'loud' is invalid. It must be one of ${LEVELS}.`],
  ['join with LOG_LEVEL=loud', 'replay-node', joinArgs(), { LOG_LEVEL: 'loud' }, `replay-node: LOG_LEVEL="loud" is not a log level; set it to one of ${LEVELS} (or unset it: info)`],
  ['observer serve with LOG_LEVEL=loud', 'replay-observer', ['serve', '--store', () => store, '--no-gossip'], { LOG_LEVEL: 'loud' }, `replay-observer: LOG_LEVEL="loud" is not a log level; set it to one of ${LEVELS} (or unset it: info)`],
  ['join, an empty region=', 'replay-node', ['join', '--store', REGION, '--run', 'r1', '--runner', 'sim', '--no-gossip', '--data-dir', () => join(dir, 'data')], {}, `replay-node: ${REGION_RULE}`],
  ['status, an empty region=', 'replay-node', ['status', '--store', REGION, '--run', 'r1'], {}, `replay-node: ${REGION_RULE}`],
  ['doctor, an empty region=', 'replay-node', ['doctor', '--store', REGION], {}, `replay-node: ${REGION_RULE}`],
  ['pause, an empty region=', 'replay-node', ['pause', '--store', REGION, '--run', 'r1', '--all'], {}, `replay-node: ${REGION_RULE}`],
  ['manifest list, an empty region=', 'replay-manifest', ['list', '--store', REGION], {}, `replay-manifest: ${REGION_RULE}`],
  ['observer serve, an empty region=', 'replay-observer', ['serve', '--store', REGION, '--no-gossip'], {}, `replay-observer: ${REGION_RULE}`],
  ['observer serve --host with a space', 'replay-observer', ['serve', '--store', () => store, '--host', 'not a host', '--no-gossip'], {},
    "error: option '--host <address>' argument 'not a host' is invalid. It must be an IP address (127.0.0.1, ::1, 0.0.0.0 for every interface) or a host name."],
  ['observer serve --host 999.1.1.1', 'replay-observer', ['serve', '--store', () => store, '--host', '999.1.1.1', '--no-gossip'], {},
    "error: option '--host <address>' argument '999.1.1.1' is invalid. It must be an IP address (127.0.0.1, ::1, 0.0.0.0 for every interface) or a host name."],
  ['observer serve --port 70000', 'replay-observer', ['serve', '--store', () => store, '--port', '70000', '--no-gossip'], {},
    "error: option '--port <port>' argument '70000' is invalid. It must be a TCP port, 0-65535 (0: any free port)."],
  ['observer serve --resync-ms 5', 'replay-observer', ['serve', '--store', () => store, '--resync-ms', '5', '--no-gossip'], {}, `error: option '--resync-ms <ms>' argument '5' is invalid. ${DURATION(1000)}`],
  ['join --p2p-port 99999', 'replay-node', ['join', '--store', () => store, '--run', 'r1', '--p2p-port', '99999'], {}, "error: option '--p2p-port <port>' argument '99999' is invalid. It must be a TCP port, 0-65535 (0: any free port)."],
  ['join --p2p-peer with a space', 'replay-node', joinArgs('--p2p-peer', 'x y:9876'), {},
    "error: option '--p2p-peer <host:port>' argument 'x y:9876' is invalid. It must be host:port (a host name or IP address, [v6]:port for IPv6; port 1-65535)."],
  ['join --p2p-peer with a line break (it goes into config.ini)', 'replay-node', joinArgs('--p2p-peer', 'h:1\nplugin = x'), {},
    "error: option '--p2p-peer <host:port>' argument 'h:1\nplugin = x' is invalid. It must be host:port (a host name or IP address, [v6]:port for IPv6; port 1-65535)."],
  ['join --heartbeat-ms past a timer\'s reach', 'replay-node', joinArgs('--heartbeat-ms', '99999999999'), {}, `error: option '--heartbeat-ms <ms>' argument '99999999999' is invalid. ${DURATION(1)}`],
  ['join --stall-timeout-ms 0', 'replay-node', joinArgs('--stall-timeout-ms', '0'), {}, `error: option '--stall-timeout-ms <ms>' argument '0' is invalid. ${DURATION(1)}`],
  ['join --sim-step-ms 1.5', 'replay-node', joinArgs('--sim-step-ms', '1.5'), {}, `error: option '--sim-step-ms <ms>' argument '1.5' is invalid. the value "1.5" is not an integer; write whole numbers in plain digits; give whole milliseconds.`],
  ['join --heartbeat-ms above the run\'s TTL', 'replay-node', joinArgs('--heartbeat-ms', '90000'), {},
    "replay-node: heartbeatMs (90000) must be below staleAfterMs (60000) with this run's lease TTL of 60000 ms; change --heartbeat-ms, --idle-scan-ms or --control-poll-ms"],
  ['join --concurrency 0', 'replay-node', joinArgs('--concurrency', '0'), {}, "error: option '--concurrency <n>' argument '0' is invalid. It must be a whole number >= 1."],
  ['manifest publish --lease-ttl-ms past a timer\'s reach', 'replay-manifest', ['publish', '--store', () => store, '--run', 'r2', '--spacing', () => spacing, '--lease-ttl-ms', '99999999999'], {},
    `error: option '--lease-ttl-ms <ms>' argument '99999999999' is invalid. ${DURATION(1)}`],
];

describe('bad input: one line with the rule, exit 2', () => {
  for (const [what, cli, args, env, line] of cases) {
    it(what, async () => {
      const outcome = await runBuiltCli(cli, args.map((a) => (typeof a === 'function' ? a() : a)), env);
      expect({ exitCode: outcome.exitCode, stderr: outcome.stderr, stdout: outcome.stdout }).toEqual({ exitCode: 2, stderr: line, stdout: '' });
    });
  }

  it('a well-formed --host that does not resolve is one line too, after the store is opened and closed', async () => {
    const outcome = await runBuiltCli('replay-observer', ['serve', '--store', store, '--host', 'no-such-host.invalid', '--port', '0', '--no-gossip']);
    expect(outcome.exitCode).toBe(2);
    expect(outcome.stderr).toMatch(/^replay-observer: cannot listen on no-such-host\.invalid:0: the host name does not resolve \((ENOTFOUND|EAI_AGAIN)\); check --host, or give an IP address$/);
  });

  it('nothing was written by the refused commands', async () => {
    expect(await readdir(join(dir, 'store', 'runs'))).toEqual(['r1']);
    expect(await readdir(join(dir, 'store', 'runs', 'r1'))).toEqual(['manifest.json']);
  });
});
