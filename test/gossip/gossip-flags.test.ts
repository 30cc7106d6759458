import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/cli/describe-error.js';
import { addGossipOptions, resolveGossipFlags, type GossipFlags } from '../../src/cli/gossip-options.js';
import { generateSwarmKey } from '../../src/gossip/swarm-key.js';

const PEER = '12D3KooWLxjUPmthcJWiCvVkWn5iqzrwZuijTk1XSUkmzftVWV59';

function parse(args: string[]): GossipFlags {
  const command = addGossipOptions(new Command('join')).exitOverride().configureOutput({ writeErr: () => {} });
  command.parse(args, { from: 'user' });
  return command.opts<GossipFlags>();
}

const resolve = (args: string[]) => resolveGossipFlags(parse(args));
const failure = async (args: string[]): Promise<string> => {
  const error = await resolve(args).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(UserError);
  return (error as Error).message;
};

describe('replay-node join gossip flags', () => {
  it('defaults to all interfaces on a free port, no key, no bootstrap', async () => {
    expect(await resolve([])).toEqual({ listen: ['/ip4/0.0.0.0/tcp/0'], announce: [], bootstrap: [] });
  });

  it('takes repeated --listen/--announce/--bootstrap, --p2p-port and a swarm key file', async () => {
    const keyFile = join(await mkdtemp(join(tmpdir(), 'flags-')), 'swarm.key');
    await writeFile(keyFile, generateSwarmKey());
    const settings = await resolve([
      '--listen', '/ip4/127.0.0.1/tcp/4001', '--listen', '/ip4/10.0.0.5/tcp/4001',
      '--announce', '/dns4/replay-7.example.org/tcp/4001',
      '--bootstrap', `/ip4/10.0.0.9/tcp/4001/p2p/${PEER}`,
      '--swarm-key', keyFile,
    ]);
    expect(settings).toMatchObject({
      listen: ['/ip4/127.0.0.1/tcp/4001', '/ip4/10.0.0.5/tcp/4001'],
      announce: ['/dns4/replay-7.example.org/tcp/4001'],
      bootstrap: [`/ip4/10.0.0.9/tcp/4001/p2p/${PEER}`],
      swarmKeyFile: keyFile,
    });
    expect(settings!.swarmKey).toBeInstanceOf(Uint8Array);
    expect(await resolve(['--p2p-port', '4001'])).toMatchObject({ listen: ['/ip4/0.0.0.0/tcp/4001'] });
  });

  it('--no-gossip turns it off, and refuses gossip options beside it', async () => {
    expect(await resolve(['--no-gossip'])).toBeUndefined();
    expect(await failure(['--no-gossip', '--p2p-port', '4001', '--swarm-key', 'k'])).toBe(
      '--no-gossip cannot be combined with gossip options (--p2p-port, --swarm-key); drop one or the other',
    );
  });

  it('names a bad address, a bootstrap address without a peer id, and a bad key file in one line', async () => {
    expect(await failure(['--listen', 'localhost:4001'])).toMatch(/^gossip address "localhost:4001": not a multiaddr/);
    expect(await failure(['--bootstrap', '/ip4/10.0.0.9/tcp/4001'])).toMatch(/needs \/p2p\/<peer id>/);
    expect(await failure(['--swarm-key', '/nonexistent/key'])).toMatch(/^swarm key \/nonexistent\/key: cannot read it/);
  });

  it('rejects a bad port and --listen with --p2p-port at parse time', () => {
    expect(() => parse(['--p2p-port', '70000'])).toThrow(/TCP port/);
    expect(() => parse(['--p2p-port', '1', '--listen', '/ip4/0.0.0.0/tcp/1'])).toThrow(/cannot be used with/);
  });
});
