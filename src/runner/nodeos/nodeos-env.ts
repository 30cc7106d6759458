/**
 * The environment nodeos starts with: a minimal one, never replay-node's
 * own. replay-node holds the store's credentials (AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, a profile), and nodeos needs none of them: it reads
 * only local files, and it may be a binary from a bucket artifact, that is,
 * code anyone with write access to the bucket chose. Whatever it prints
 * ends up in failure records every bucket reader sees.
 *
 * Kept from replay-node's environment: PATH (setpriv and `#!/usr/bin/env`
 * scripts are found through it), HOME, LANG, LC_*, TZ (log timestamps),
 * TMPDIR. An operator who wants nodeos to have more (MALLOC_ARENA_MAX,
 * LD_LIBRARY_PATH) sets `REPLAY_NODEOS_ENV_<NAME>=value` for replay-node:
 * nodeos gets `<NAME>=value`, chosen on purpose and by name. The runner's
 * explicit `env` option (tests steer the fake nodeos with it) comes last.
 */
export const NODEOS_ENV_PREFIX = 'REPLAY_NODEOS_ENV_';

const INHERITED = new Set(['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']);

export function nodeosEnvironment(explicit: Record<string, string>, parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    if (INHERITED.has(name) || name.startsWith('LC_')) env[name] = value;
  }
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || !name.startsWith(NODEOS_ENV_PREFIX)) continue;
    const target = name.slice(NODEOS_ENV_PREFIX.length);
    if (target !== '') env[target] = value;
  }
  return { ...env, ...explicit };
}
