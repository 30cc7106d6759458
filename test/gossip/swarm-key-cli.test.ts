import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { readSwarmKey } from '../../src/gossip/swarm-key.js';

/** The real CLI, as built by `npm run build` (npm test builds first). */
const cli = fileURLToPath(new URL('../../bin/replay-node.js', import.meta.url));

describe('replay-node swarm-key', () => {
  it('writes a key file (0600) that --swarm-key accepts, and refuses to replace one in one line', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'swarm-key-cli-')), 'swarm.key');
    const first = await execa('node', [cli, 'swarm-key', '--out', path], { reject: false });
    expect(first.exitCode).toBe(0);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await expect(readSwarmKey(path)).resolves.toBeInstanceOf(Uint8Array);

    const before = await readFile(path, 'utf8');
    const second = await execa('node', [cli, 'swarm-key', '--out', path], { reject: false });
    expect(second.exitCode).toBe(2);
    expect(second.stderr.trim().split('\n')).toEqual([`replay-node: swarm key ${path}: already exists (not replaced: nodes using it would be cut off)`]);
    expect(await readFile(path, 'utf8')).toBe(before);
  });

  it('needs --out', async () => {
    const result = await execa('node', [cli, 'swarm-key'], { reject: false });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("required option '--out <file>' not specified");
  });
});
