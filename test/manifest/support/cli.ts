import { cliPath, runBuiltCli, type CliOutcome } from '../../support/cli.js';

export type { CliOutcome } from '../../support/cli.js';

/** The real CLI, as users run it (built by `npm run build`, which `npm test` runs first). */
export const manifestCli = cliPath('replay-manifest');

export function runManifestCli(args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  return runBuiltCli('replay-manifest', args, env);
}
