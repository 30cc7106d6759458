import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** The real CLIs, as users run them (built by `npm run build`, which `npm test` runs first). */
export const cliPath = (name: 'replay-node' | 'replay-manifest' | 'replay-observer'): string =>
  fileURLToPath(new URL(`../../bin/${name}.js`, import.meta.url));

export interface CliOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a built CLI to completion; `env` is merged over this process's environment. */
export async function runBuiltCli(name: Parameters<typeof cliPath>[0], args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  const result = await execa('node', [cliPath(name), ...args], { reject: false, env: { LOG_LEVEL: 'warn', ...env } });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}
