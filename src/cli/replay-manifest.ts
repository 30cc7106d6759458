import '../util/promise-shim.js'; // first: libp2p needs Promise.withResolvers, which Node 20 lacks
import { Command } from 'commander';
import { buildCommand } from './manifest/build.js';
import { importEnfCommand } from './manifest/import-enf.js';
import { listCommand } from './manifest/list.js';
import { publishCommand } from './manifest/publish.js';
import { rerunCommand } from './manifest/rerun.js';
import { showCommand } from './manifest/show.js';
import { slicesCommand } from './manifest/slices.js';
import { runCli } from './run-cli.js';
import { version } from './version.js';

const program = new Command('replay-manifest')
  .description('Builds, checks and publishes the immutable definition of a replay run.')
  .version(version)
  .addCommand(buildCommand())
  .addCommand(slicesCommand())
  .addCommand(publishCommand())
  .addCommand(showCommand())
  .addCommand(listCommand())
  .addCommand(importEnfCommand())
  .addCommand(rerunCommand());

await runCli(program);
