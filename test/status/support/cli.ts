import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { CliOutcome } from '../../manifest/support/cli.js';

/** The real launchers in bin/ (built by `npm run build`, which `npm test` runs first). */
export const binPath = (name: 'replay-node' | 'replay-observer'): string => fileURLToPath(new URL(`../../../bin/${name}.js`, import.meta.url));

export async function runBin(name: 'replay-node' | 'replay-observer', args: string[]): Promise<CliOutcome> {
  const result = await execa('node', [binPath(name), ...args], { reject: false, env: { LOG_LEVEL: 'warn' } });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}
