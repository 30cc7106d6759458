import '../util/promise-shim.js'; // first: libp2p needs Promise.withResolvers, which Node 20 lacks
import { Command } from 'commander';
import { serveCommand } from './observer-serve.js';
import { runCli } from './run-cli.js';
import { version } from './version.js';

const program = new Command('replay-observer')
  .description('A read-only live status view of replay runs, built from the store and gossip.')
  .version(version)
  .addCommand(serveCommand());

await runCli(program);
