import { Command, InvalidArgumentError, Option } from 'commander';
import { GossipAddressError, SwarmKeyError } from '../gossip/errors.js';
import { bootstrapPeerId, listenOnPort, parseAddress } from '../gossip/addresses.js';
import { DEFAULT_LISTEN } from '../gossip/gossip-options.js';
import { readSwarmKey } from '../gossip/swarm-key.js';
import { UserError } from './describe-error.js';

/** The gossip flags of `replay-node join` as commander parses them. */
export interface GossipFlags {
  gossip: boolean;
  listen?: string[];
  p2pPort?: number;
  announce?: string[];
  swarmKey?: string;
  bootstrap?: string[];
}

/** What the node needs to build its gossip (or `undefined` with --no-gossip). */
export interface GossipSettings {
  listen: string[];
  announce: string[];
  swarmKey?: Uint8Array;
  swarmKeyFile?: string;
  bootstrap: string[];
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function port(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed > 65535) throw new InvalidArgumentError('It must be a TCP port, 0-65535 (0: any free port).');
  return parsed;
}

/** Adds --listen, --p2p-port, --announce, --swarm-key, --bootstrap and --no-gossip to a command. */
export function addGossipOptions(command: Command): Command {
  return command
    .addOption(new Option('--listen <multiaddr>', `gossip listen address, repeatable (default ${DEFAULT_LISTEN[0]})`).argParser(collect))
    .addOption(new Option('--p2p-port <port>', 'gossip TCP port on all interfaces (instead of --listen)').argParser(port).conflicts('listen'))
    .addOption(new Option('--announce <multiaddr>', 'address other nodes should dial (behind NAT), repeatable').argParser(collect))
    .option('--swarm-key <file>', 'pre-shared key of a private gossip network (make one with `replay-node swarm-key`)')
    .addOption(new Option('--bootstrap <multiaddr>', 'a peer to always dial, with /p2p/<peer id>, repeatable (not needed: nodes find each other through the store)').argParser(collect))
    .option('--no-gossip', 'no gossip at all: the node works from the store alone (slower to react, same results)');
}

/** Checks the flags once and reads the swarm key; one-line UserErrors naming the flag. */
export async function resolveGossipFlags(flags: GossipFlags): Promise<GossipSettings | undefined> {
  if (!flags.gossip) {
    const stray = (['listen', 'p2pPort', 'announce', 'swarmKey', 'bootstrap'] as const).filter((key) => flags[key] !== undefined);
    if (stray.length > 0) throw new UserError(`--no-gossip cannot be combined with gossip options (${stray.map(flagName).join(', ')}); drop one or the other`);
    return undefined;
  }
  try {
    const listen = flags.p2pPort !== undefined ? [listenOnPort(flags.p2pPort)] : flags.listen ?? DEFAULT_LISTEN;
    for (const address of [...listen, ...(flags.announce ?? [])]) parseAddress(address);
    for (const address of flags.bootstrap ?? []) bootstrapPeerId(address);
    return {
      listen,
      announce: flags.announce ?? [],
      bootstrap: flags.bootstrap ?? [],
      ...(flags.swarmKey ? { swarmKey: await readSwarmKey(flags.swarmKey), swarmKeyFile: flags.swarmKey } : {}),
    };
  } catch (error) {
    if (error instanceof GossipAddressError || error instanceof SwarmKeyError) throw new UserError(error.message);
    throw error;
  }
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
