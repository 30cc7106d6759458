import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeError, describeStack } from '../../src/cli/describe-error.js';
import { createLogger } from '../../src/util/logger.js';
import { redactFields, redactSecrets, redactUrl } from '../../src/util/redact.js';

// Issue 19: one place (src/util/redact.ts) knows every secret shape; these
// are the shapes, and the project's own text it must leave alone.
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('secret shapes in text', () => {
  const cases: Array<[string, string, string]> = [
    // [shape, text, the secret that must be gone]
    ['query parameter', `s3://b/x?secretAccessKey=${AWS_SECRET}&region=us-east-1`, AWS_SECRET],
    ['SigV4 query', 'https://h/b/k?X-Amz-Credential=AKIAX%2F2026&X-Amz-Signature=deadbeefcafe&X-Amz-Security-Token=FwoGZX', 'deadbeefcafe'],
    ['userinfo', 'cannot reach http://admin:hunter2@127.0.0.1:9000 (ECONNREFUSED)', 'hunter2'],
    ['userinfo, @ in the password', 'endpoint=http://admin:p@ss@host:9000', 'p@ss'],
    ['encoded userinfo', 'endpoint=http%3A%2F%2Fadmin%3Ahunter2%40127.0.0.1%3A9000', 'hunter2'],
    ['env dump', `AWS_SECRET_ACCESS_KEY=${AWS_SECRET}`, AWS_SECRET],
    ['env dump with spaces', 'DB_PASSWORD=correct horse battery', 'horse battery'],
    ['session token', 'export AWS_SESSION_TOKEN=FwoGZXIvYXdzEBYaDH', 'FwoGZXIvYXdzEBYaDH'],
    ['ini line', `aws_secret_access_key = ${AWS_SECRET}`, AWS_SECRET],
    ['JSON', `{"accessKeyId":"AKIAIOSFODNN7EXAMPLE","secretAccessKey":"${AWS_SECRET}"}`, AWS_SECRET],
    ['util.inspect', `{ secretAccessKey: '${AWS_SECRET}' }`, AWS_SECRET],
    ['Authorization header', 'Authorization: AWS4-HMAC-SHA256 Credential=AKIAX/2026/us-east-1/s3/aws4_request, Signature=0123abcd', '0123abcd'],
    ['bearer', 'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig', 'eyJhbGciOiJIUzI1NiJ9'],
    ['nodeos signature-provider', 'signature-provider = EOS6MRyAjQq8ud7hVNYcfnVPJqcVpscN5So8BhtHuGYqET5GDW5CV=KEY:5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3', '5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3'],
    ['Antelope key alone', 'key PVT_K1_2bfGi9rYsXQSXXTvJbDAPhHLQUojjaNLomdm3cEJ1XTzMqUt3V loaded', 'PVT_K1_2bfGi9rYsXQSXXTvJbDAPhHLQUojjaNLomdm3cEJ1XTzMqUt3V'],
    ['WIF key alone', 'imported 5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3', '5KQwrPbwdL6PhXujxW37FSSQZ1JiwsST4cqQzDeyXtP79zkvFD3'],
  ];
  for (const [shape, text, secret] of cases) {
    it(`redacts a ${shape}`, () => {
      const out = redactSecrets(text);
      expect(out).not.toContain(secret);
      expect(out).toContain('[redacted]');
      expect(redactSecrets(out)).toBe(out);
    });
  }

  it('keeps quotes, so redacted JSON still parses', () => {
    const out = redactSecrets(JSON.stringify({ password: 'x"y', region: 'us-east-1' }));
    expect(JSON.parse(out)).toEqual({ password: '[redacted]', region: 'us-east-1' });
  });

  it('leaves the project\'s own text alone: store keys, hashes, peer ids, block ids, env without secrets', () => {
    const ours = [
      'corrupt object runs/r1/leases/0000000100-0000000200.json: names another run or item; delete or fix it (it is skipped until then)',
      'object key: runs/r1/results/0000000100-0000000200.json',
      'chain database stopped with hash: 5a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9',
      'Received block 0000006400a0b1c2... #25600 @ 2026-01-01T00:00:00.000 signed by eosio',
      'peer 12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo at /ip4/127.0.0.1/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo',
      's3://bucket/prefix?endpoint=http://127.0.0.1:7480&region=us-east-1',
      'store URL s3://b/x: credentials do not belong in the URL (they would end up in logs); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment instead',
      'PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 PWD=/work',
      'config.ini:3: expected "key = value", got "p2p-peer-address"',
      'GENESIS_KEY = snapshots/genesis.json; key == other',
    ];
    for (const text of ours) expect(redactSecrets(text), text).toBe(text);
  });
});

describe('secret shapes in URLs a user typed', () => {
  it('catches what percent-encoding and unencoded "/" hide from the text patterns', () => {
    expect(redactUrl('s3://bucket/x?secret%41ccessKey=SEKRIT1&region=r')).toBe('s3://bucket/x?secretAccessKey=[redacted]&region=r');
    expect(redactUrl('s3://bucket/x?endpoint=http://u:pa/SEKRIT2@host')).toBe('s3://bucket/x?endpoint=http://[redacted]@host');
    expect(redactUrl('s3://u:pa/SEKRIT3@bucket/x')).toBe('s3://[redacted]@bucket/x');
    expect(redactUrl('s3://bucket/x?endpoint=http://127.0.0.1:9000&region=r')).toBe('s3://bucket/x?endpoint=http://127.0.0.1:9000&region=r');
  });
});

describe('secrets in errors and logs', () => {
  it('a CLI error line and its --debug stack are redacted', () => {
    const error = new Error(`SDK said: AWS_SECRET_ACCESS_KEY=${AWS_SECRET} at http://u:hunter2@h`);
    expect(describeError(error)).toBe('Error: SDK said: AWS_SECRET_ACCESS_KEY=[redacted]');
    expect(describeStack(error)).not.toMatch(/hunter2|wJalr/);
  });

  it('pino: redact paths, secret-named fields at any depth, strings, error messages and stacks, the message, child bindings', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'secrets-log-'));
    try {
      const file = join(dir, 'log.jsonl');
      const fd = openSync(file, 'w');
      const logger = createLogger({ name: 'secrets', level: 'debug', destination: fd });
      const error = new Error('cannot reach http://admin:SEK1@h:9000');
      logger.error(error);
      logger.warn({ err: error, key: 'runs/r1/x.json', credentials: { accessKeyId: 'AKIA', secretAccessKey: 'SEK2' } }, 'store trouble');
      logger.info({ deep: { a: { b: { sessionToken: 'SEK3', note: 'password=SEK4' } } }, list: [new Error('token=SEK5')] }, 'nested');
      logger.info('message with AWS_SECRET_ACCESS_KEY=%s', 'SEK6');
      logger.child({ url: 's3://b/x?endpoint=http://u:SEK7@h' }).info('child');
      closeSync(fd);
      const text = readFileSync(file, 'utf8');
      expect(text).not.toMatch(/SEK\d/);
      const lines = text.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toHaveLength(5);
      expect(lines[1]).toMatchObject({ key: 'runs/r1/x.json', credentials: '[redacted]', err: { type: 'Error', message: 'cannot reach http://[redacted]@h:9000' } });
      expect((lines[0]!.err as { stack: string }).stack).toContain('cannot reach http://[redacted]@h:9000');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('redactFields leaves non-secret structure as it is', () => {
    const fields = { item: '0000000100-0000000200', key: 'runs/r1/leases/x.json', counts: { done: 1 }, when: new Date(0) };
    expect(redactFields(fields)).toEqual(fields);
  });
});
