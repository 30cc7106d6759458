import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** The real CLI, as users run it (built by `npm run build`, which `npm test` runs first). */
export const manifestCli = fileURLToPath(new URL('../../../bin/replay-manifest.js', import.meta.url));

export interface CliOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function runManifestCli(args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  const result = await execa('node', [manifestCli, ...args], { reject: false, env: { LOG_LEVEL: 'warn', ...env } });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}
