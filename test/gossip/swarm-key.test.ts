import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SwarmKeyError } from '../../src/gossip/errors.js';
import { generateSwarmKey, parseSwarmKey, readSwarmKey, writeNewSwarmKey } from '../../src/gossip/swarm-key.js';

const HEX = '0f'.repeat(32);

describe('swarm keys', () => {
  it('writes a new key 0600 in the libp2p v1 format and reads it back', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'swarm-key-')), 'swarm.key');
    await writeNewSwarmKey(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const text = await readFile(path, 'utf8');
    expect(text).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/);
    expect(new TextDecoder().decode(await readSwarmKey(path))).toBe(text.trimEnd());
    expect(generateSwarmKey()).not.toBe(generateSwarmKey());
  });

  it('refuses to replace an existing key file', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'swarm-key-')), 'swarm.key');
    await writeFile(path, 'keep me');
    await expect(writeNewSwarmKey(path)).rejects.toThrow(/already exists/);
    expect(await readFile(path, 'utf8')).toBe('keep me');
  });

  it('accepts CRLF line ends, surrounding blanks and upper-case hex (an IPFS swarm.key)', () => {
    const parsed = parseSwarmKey(`/key/swarm/psk/1.0.0/\r\n/base16/\r\n${HEX.toUpperCase()}\r\n\r\n`);
    expect(new TextDecoder().decode(parsed)).toBe(`/key/swarm/psk/1.0.0/\n/base16/\n${HEX}`);
  });

  it.each([
    ['a short key', `/key/swarm/psk/1.0.0/\n/base16/\n${HEX.slice(2)}`, /64 hex digits/],
    ['another codec', `/key/swarm/psk/1.0.0/\n/base64/\n${HEX}`, /second line/],
    ['another header', `/key/swarm/psk/2.0.0/\n/base16/\n${HEX}`, /first line/],
    ['just the hex', HEX, /1 lines, not 3/],
  ])('refuses %s with a one-line error naming the file and the format', (_what, text, problem) => {
    const error = (() => {
      try {
        parseSwarmKey(text, '/etc/replay/swarm.key');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(SwarmKeyError);
    expect((error as Error).message).toMatch(problem);
    expect((error as Error).message).toMatch(/^swarm key \/etc\/replay\/swarm\.key: .*replay-node swarm-key --out FILE/);
    expect((error as Error).message).not.toContain('\n');
  });

  it('names a missing file', async () => {
    await expect(readSwarmKey('/nonexistent/swarm.key')).rejects.toThrow(/swarm key \/nonexistent\/swarm\.key: cannot read it \(ENOENT\)/);
  });
});
