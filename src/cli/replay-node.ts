import '../util/promise-shim.js'; // first: libp2p needs Promise.withResolvers, which Node 20 lacks
import { Command } from 'commander';
import { controlCommands } from './control.js';
import { doctorCommand } from './doctor.js';
import { joinCommand } from './join.js';
import { runCli } from './run-cli.js';
import { statusCommand } from './status.js';
import { swarmKeyCommand } from './swarm-key.js';
import { version } from './version.js';

const program = new Command('replay-node')
  .description('A replay host: claims intervals of a run through leases in the shared store and replays them.')
  .version(version)
  .addCommand(joinCommand())
  .addCommand(statusCommand())
  .addCommand(swarmKeyCommand())
  .addCommand(doctorCommand());

for (const command of controlCommands()) program.addCommand(command);

await runCli(program);
