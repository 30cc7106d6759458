import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runKeys } from '../../src/layout/keys.js';
import { decodeFailure } from '../../src/records/failure-record.js';
import { recordFailure } from '../../src/node/record-failure.js';
import { createMemoryStore } from '../../src/store/memory.js';
import { getIfExists } from '../../src/store/get-if-exists.js';
import { systemClock } from '../../src/time/system-clock.js';
import { systemIds } from '../../src/util/ids.js';
import { createWorld, failureOf, type World } from '../runner/support/nodeos-world.js';

// Issue 19, part 2: a nodeos that prints its environment must not put the
// store's credentials into failure records (every bucket reader and the
// observer's item page see them) or a world-readable log file.
const SECRET = 'hostileSecretKey0123456789abcdefghijklmno';
const TOKEN = 'hostileSessionToken0123456789';
const PARENT_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAHOSTILE000000001',
  AWS_SECRET_ACCESS_KEY: SECRET,
  AWS_SESSION_TOKEN: TOKEN,
  AWS_PROFILE: 'hostile',
  // How an operator passes nodeos something on purpose.
  REPLAY_NODEOS_ENV_MALLOC_ARENA_MAX: '2',
};

/** A "nodeos" that answers --version, then prints its whole environment, saves it as JSON, and exits 254. */
const ENV_PRINTER = `#!/usr/bin/env node
if (process.argv.includes('--version')) { console.log('v5.0.2'); process.exit(0); }
require('fs').writeFileSync(process.env.DUMP_FILE, JSON.stringify(process.env));
for (const [k, v] of Object.entries(process.env)) console.log(k + '=' + v);
process.exit(254);
`;

let world: World;
let saved: Record<string, string | undefined>;
beforeEach(async () => {
  world = await createWorld();
  saved = Object.fromEntries(Object.keys(PARENT_ENV).map((k) => [k, process.env[k]]));
  Object.assign(process.env, PARENT_ENV);
});
afterEach(async () => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await world.cleanup();
});

describe('a nodeos that prints its environment', () => {
  it('starts without AWS_*, its log tail holds no secret, its log is 0600 in a 0700 directory', async () => {
    const bin = join(world.dir, 'nodeos');
    await writeFile(bin, ENV_PRINTER);
    await chmod(bin, 0o755);
    const dump = join(world.dir, 'env.json');
    const snap = await world.putSnapshot(100);
    // The explicit env option still reaches nodeos (tests steer the fake with it); a secret passed that way is redacted in the tail.
    const runner = world.runner({ nodeosBin: bin, env: { DUMP_FILE: dump, EXPLICIT_API_TOKEN: 'explicitToken42' } });
    const item = world.item(100, 600, snap);
    const failure = await failureOf(world.run(runner, item));

    const childEnv = JSON.parse(await readFile(dump, 'utf8')) as Record<string, string>;
    expect(Object.keys(childEnv).filter((k) => k.startsWith('AWS_'))).toEqual([]);
    expect(childEnv).toMatchObject({ DUMP_FILE: dump, EXPLICIT_API_TOKEN: 'explicitToken42', MALLOC_ARENA_MAX: '2' });
    expect(childEnv.PATH).toBe(process.env.PATH);
    for (const name of Object.keys(childEnv)) {
      expect(['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR', 'DUMP_FILE', 'EXPLICIT_API_TOKEN', 'MALLOC_ARENA_MAX'].includes(name) || name.startsWith('LC_'), name).toBe(true);
    }

    expect(failure.details.exitCode).toBe(254);
    const tail = failure.details.logTail!.join('\n');
    expect(tail).toContain('EXPLICIT_API_TOKEN=[redacted]');
    expect(tail).not.toMatch(new RegExp(`${SECRET}|${TOKEN}|explicitToken42|AKIAHOSTILE`));

    const log = join(world.dataDir, 'items', item.itemId, 'nodeos.log');
    expect((await stat(log)).mode & 0o777).toBe(0o600);
    expect((await stat(join(world.dataDir, 'items', item.itemId))).mode & 0o777).toBe(0o700);
    const text = await readFile(log, 'utf8');
    expect(text).toContain('EXPLICIT_API_TOKEN=[redacted]');
    expect(text).not.toContain('explicitToken42');
  });

  it('the failure record written to the bucket is redacted whatever runner or error produced it', async () => {
    const store = createMemoryStore({ clock: systemClock });
    const key = await recordFailure({ store, clock: systemClock, ids: systemIds, run: 'r1' }, {
      item: '0000000100-0000000600', node: 'n1', epoch: 1, attempt: 1, reason: 'crashed', final: false,
      message: `nodeos said: cannot open http://admin:${SECRET}@h`,
      logTail: [`AWS_SECRET_ACCESS_KEY=${SECRET}`, `AWS_SESSION_TOKEN=${TOKEN}`, 'an ordinary line'],
    });
    expect(key.startsWith(runKeys('r1').failuresOf('0000000100-0000000600'))).toBe(true);
    const body = (await getIfExists(store, key))!.body;
    expect(Buffer.from(body).toString('utf8')).not.toMatch(new RegExp(`${SECRET}|${TOKEN}`));
    expect(decodeFailure(key, body)).toMatchObject({
      message: 'nodeos said: cannot open http://[redacted]@h',
      logTail: ['AWS_SECRET_ACCESS_KEY=[redacted]', 'AWS_SESSION_TOKEN=[redacted]', 'an ordinary line'],
    });
  });
});
