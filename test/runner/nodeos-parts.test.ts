import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIni, readOverrides, renderConfig, type ConfigInputs } from '../../src/runner/nodeos/config.js';
import { NodeosLog } from '../../src/runner/nodeos/log-file.js';

const base: ConfigInputs = { httpPort: 40001, p2pPort: 40002, p2pPeers: ['10.0.0.1:9876', '10.0.0.2:9876'], blocksLogStride: 2_000_000, readOnly: false };

function values(text: string, key: string): string[] {
  return parseIni(text, 'test').filter((e) => e.key === key).map((e) => e.value);
}

describe('config.ini', () => {
  it('renders the sync template: plugins, loopback http and p2p on the given ports, peers, stride', () => {
    const text = renderConfig(base);
    expect(values(text, 'http-server-address')).toEqual(['127.0.0.1:40001']);
    expect(values(text, 'p2p-listen-endpoint')).toEqual(['127.0.0.1:40002']);
    expect(values(text, 'p2p-peer-address')).toEqual(['10.0.0.1:9876', '10.0.0.2:9876']);
    expect(values(text, 'blocks-log-stride')).toEqual(['2000000']);
    expect(values(text, 'plugin')).toContain('eosio::producer_api_plugin');
    expect(values(text, 'plugin')).toContain('eosio::chain_api_plugin');
    expect(values(text, 'read-mode')).toEqual([]);
  });

  it('the read-only variant reads head state without peers or transactions', () => {
    const text = renderConfig({ ...base, readOnly: true, overrides: [{ key: 'p2p-peer-address', value: '10.9.9.9:9876' }] });
    expect(values(text, 'read-mode')).toEqual(['head']);
    expect(values(text, 'p2p-accept-transactions')).toEqual(['false']);
    expect(values(text, 'api-accept-transactions')).toEqual(['false']);
    expect(values(text, 'p2p-peer-address')).toEqual([]);
  });

  it('a user file replaces every template line of the keys it names, but never the http address', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodeos-config-'));
    try {
      const file = join(dir, 'override.ini');
      await writeFile(file, '# mine\nchain-state-db-size-mb = 1024\nplugin = eosio::chain_plugin\nplugin = eosio::http_plugin\nhttp-server-address = 0.0.0.0:8888\n');
      const text = renderConfig({ ...base, overrides: await readOverrides(file) });
      expect(values(text, 'chain-state-db-size-mb')).toEqual(['1024']);
      expect(values(text, 'plugin')).toEqual(['eosio::chain_plugin', 'eosio::http_plugin']);
      expect(values(text, 'http-server-address')).toEqual(['127.0.0.1:40001']);
      await writeFile(file, 'no equals sign here\n');
      await expect(readOverrides(file)).rejects.toThrow(/override.ini:1: expected "key = value"/);
      await expect(readOverrides(join(dir, 'missing.ini'))).rejects.toThrow(/cannot read nodeos config override/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('nodeos log', () => {
  it('rotates by size, keeps a bounded tail, and hands every line to listeners', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodeos-log-'));
    try {
      const log = new NodeosLog(join(dir, 'nodeos.log'), 1_000, 3, 50);
      const seen: string[] = [];
      log.onLine((line) => seen.push(line));
      for (let i = 0; i < 300; i++) log.write(`line ${String(i).padStart(4, '0')} ${'x'.repeat(20)}\n`);
      log.write('partial without newline');
      expect(log.lastLines()).toHaveLength(50);
      expect(log.lastLines().at(-1)).toBe('partial without newline');
      expect(log.lastLines().at(-2)).toContain('line 0299');
      log.close();
      expect(seen).toHaveLength(301);
      expect((await readdir(dir)).sort()).toEqual(['nodeos.log', 'nodeos.log.1', 'nodeos.log.2']);
      const current = await readFile(join(dir, 'nodeos.log'), 'utf8');
      expect(current.length).toBeLessThanOrEqual(1_000);
      expect(current).toContain('partial without newline');
      expect(await readFile(join(dir, 'nodeos.log.1'), 'utf8')).toMatch(/line 02\d\d/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

});
