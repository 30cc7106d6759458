import { Command, CommanderError } from 'commander';
import { redactSecrets } from '../util/redact.js';
import { describeError, describeStack, exitCodeFor } from './describe-error.js';

/**
 * Runs a commander program with the project's error contract: a failure is
 * one line on stderr naming the problem and the fix, with a non-zero exit
 * code; the stack only with --debug.
 */
/** Bad input, from commander or from a command's own checks (UserError's default). */
export const EXIT_USAGE = 2;

export async function runCli(program: Command, argv: string[] = process.argv): Promise<void> {
  program.option('--debug', 'show stack traces on errors');
  program.exitOverride();
  // commander's own errors quote what was typed (`--store=...`): redacted like ours. Each command has its own output settings.
  const redacting = (command: Command): void => {
    command.configureOutput({ outputError: (text, write) => write(redactSecrets(text)) });
    command.commands.forEach(redacting);
  };
  redacting(program);
  for (const command of program.commands) command.exitOverride();
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // A usage error (a bad option value, a missing or unknown option) is bad input: exit 2 like ours; help and version stay 0.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    process.stderr.write(`${program.name()}: ${describeError(error)}\n`);
    const stack = debug ? describeStack(error) : undefined;
    if (stack) process.stderr.write(`${stack}\n`);
    process.exitCode = exitCodeFor(error);
  }
}
