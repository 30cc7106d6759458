import { chmod, copyFile, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunnerConfigError } from '../../src/runner/runner-config-error.js';
import { simIntegrityHash } from '../../src/runner/sim-chain.js';
import { overwrite } from '../../src/store/store.js';
import { CHAIN, createWorld, FAKE_NODEOS, manifestWith, sha256, type World } from './support/nodeos-world.js';

/** nodeos from the manifest's artifact: .deb via dpkg -x or .tar.gz, sha256-verified, cached by hash. */
let world: World;
beforeEach(async () => {
  world = await createWorld();
});
afterEach(async () => {
  await world.cleanup();
});

async function packageFake(kind: 'deb' | 'tar.gz', version = '5.0.2'): Promise<Buffer> {
  const root = join(world.dir, `pkg-${kind}`);
  await mkdir(join(root, 'usr', 'bin'), { recursive: true });
  const bin = join(root, 'usr', 'bin', 'nodeos');
  // The fake reads its version from the environment; bake a different default in for the mismatch test.
  const source = await readFile(FAKE_NODEOS, 'utf8');
  await writeFile(bin, source.replace("env.FAKE_NODEOS_VERSION || '5.0.2'", `env.FAKE_NODEOS_VERSION || '${version}'`));
  await chmod(bin, 0o755);
  const out = join(world.dir, `nodeos.${kind}`);
  if (kind === 'deb') {
    await mkdir(join(root, 'DEBIAN'));
    await writeFile(join(root, 'DEBIAN', 'control'), 'Package: fake-nodeos\nVersion: 5.0.2\nArchitecture: all\nMaintainer: tests <t@example.invalid>\nDescription: fake nodeos\n');
    await execa('dpkg-deb', ['--build', '--root-owner-group', root, out]);
  } else {
    await execa('tar', ['-czf', out, '-C', root, '.']);
  }
  return readFile(out);
}

describe('nodeos artifact install', () => {
  for (const kind of ['deb', 'tar.gz'] as const) {
    it(`installs a .${kind} artifact, checks its version, caches it by hash and replays with it`, async () => {
      const body = await packageFake(kind);
      const key = `artifacts/nodeos-5.0.2.${kind}`;
      await world.store.put(key, body, overwrite);
      const snap = await world.putSnapshot(100);
      const manifest = manifestWith({ version: 'v5.0.2', artifact: { key, sha256: sha256(body) } });
      const runner = world.runner({ nodeosBin: undefined }, manifest);
      await runner.prepare();
      const { result } = await world.run(runner, world.item(100, 300, snap));
      expect(result.endHash).toBe(simIntegrityHash(CHAIN, 300));
      expect(result.nodeosVersion).toBe('v5.0.2');
      expect(await readdir(join(world.dataDir, 'cache', 'nodeos'))).toEqual([sha256(body)]);

      // A second runner (a restarted replay-node, once the first has let go of the data directory) reuses the installed binary without fetching it.
      await runner.close();
      const streams = world.store.counters.getStream;
      await world.runner({ nodeosBin: undefined }, manifest).prepare();
      expect(world.store.counters.getStream).toBe(streams);
    });
  }

  it('refuses an artifact whose sha256 does not match the manifest, and installs nothing', async () => {
    const body = await packageFake('tar.gz');
    await world.store.put('artifacts/nodeos.tar.gz', body, overwrite);
    const wrong = sha256('something else');
    const runner = world.runner({ nodeosBin: undefined }, manifestWith({ version: '5.0.2', artifact: { key: 'artifacts/nodeos.tar.gz', sha256: wrong } }));
    const error = await runner.prepare().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RunnerConfigError);
    expect((error as Error).message).toBe(
      `nodeos artifact artifacts/nodeos.tar.gz has sha256 ${sha256(body)}, the manifest says ${wrong}; re-upload the artifact or fix the manifest`,
    );
    expect(await readdir(join(world.dataDir, 'cache', 'nodeos'))).toEqual([]);
  });

  it('refuses a nodeos whose version differs from the manifest', async () => {
    const body = await packageFake('tar.gz', '4.0.0');
    await world.store.put('artifacts/nodeos.tar.gz', body, overwrite);
    const runner = world.runner({ nodeosBin: undefined }, manifestWith({ version: '5.0.2', artifact: { key: 'artifacts/nodeos.tar.gz', sha256: sha256(body) } }));
    await expect(runner.prepare()).rejects.toThrow(/is nodeos v4\.0\.0 but the manifest asks for 5\.0\.2/);
  });

  it('names the problem when neither --nodeos-bin nor an artifact is given, or the binary is missing', async () => {
    await expect(world.runner({ nodeosBin: undefined }, manifestWith(undefined)).prepare()).rejects.toThrow(/pass --nodeos-bin PATH/);
    await expect(world.runner({ nodeosBin: join(world.dir, 'nope') }).prepare()).rejects.toThrow(/is not an executable file/);
    await copyFile(FAKE_NODEOS, join(world.dir, 'not-exec'));
    await chmod(join(world.dir, 'not-exec'), 0o644);
    await expect(world.runner({ nodeosBin: join(world.dir, 'not-exec') }).prepare()).rejects.toThrow(/is not an executable file/);
  });

  it('preflight refuses a data directory without the required free disk', async () => {
    const runner = world.runner({ minFreeDiskBytes: 2 ** 60 });
    await expect(runner.prepare()).rejects.toThrow(/GiB free on .*, the run needs .* GiB; free space or use --data-dir/);
  });
});
