import { Command } from 'commander';
import { runCli } from './run-cli.js';
import { version } from './version.js';

const program = new Command('replay-manifest')
  .description('Builds, checks and publishes the immutable definition of a replay run.')
  .version(version);

await runCli(program);
