import { Command, CommanderError } from 'commander';
import { describeError, exitCodeFor } from './describe-error.js';

/**
 * Runs a commander program with the project's error contract: a failure is
 * one line on stderr naming the problem and the fix, with a non-zero exit
 * code; the stack only with --debug.
 */
export async function runCli(program: Command, argv: string[] = process.argv): Promise<void> {
  program.option('--debug', 'show stack traces on errors');
  program.exitOverride();
  program.configureOutput({ outputError: (text, write) => write(text) });
  for (const command of program.commands) command.exitOverride();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode;
      return;
    }
    process.stderr.write(`${program.name()}: ${describeError(error)}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
