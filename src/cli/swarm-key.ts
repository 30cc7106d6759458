import { Command } from 'commander';
import { SwarmKeyError } from '../gossip/errors.js';
import { writeNewSwarmKey } from '../gossip/swarm-key.js';
import { UserError } from './describe-error.js';

/** `replay-node swarm-key --out FILE`: a new pre-shared key for a private gossip network. */
export function swarmKeyCommand(): Command {
  return new Command('swarm-key')
    .summary('write a new gossip swarm key file')
    .description(
      'Write a new random pre-shared key (libp2p pnet v1 format, file mode 0600). Give the same file to every ' +
        'node of a run with `replay-node join --swarm-key FILE`: nodes without it cannot connect. Never replaces a file.',
    )
    .requiredOption('--out <file>', 'where to write the key')
    .action(async (options: { out: string }) => {
      try {
        await writeNewSwarmKey(options.out);
      } catch (error) {
        if (error instanceof SwarmKeyError) throw new UserError(error.message);
        throw error;
      }
      process.stderr.write(`wrote a new swarm key to ${options.out}; copy it to every node of the run (keep it secret)\n`);
    });
}
