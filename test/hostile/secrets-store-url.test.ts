import { describe, expect, it } from 'vitest';
import { StoreConfigError } from '../../src/store/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { systemClock } from '../../src/time/system-clock.js';
import { runBuiltCli } from '../support/cli.js';

// Issue 19, part 1: credentials in a store URL are refused, and the refusal
// (one line, in the library and from every CLI) never repeats them.
const SECRET = 'urlSecret0123456789abcdefghijklmnopqrstu';
const PASS = 'urlPassw0rd42';
const ENDPOINT = 'http://127.0.0.1:9';

const refusals: Array<[string, string, RegExp]> = [
  ['a secretAccessKey parameter', `s3://bucket/x?endpoint=${ENDPOINT}&secretAccessKey=${SECRET}`, /parameter "secretAccessKey" looks like a credential/],
  ['a sessionToken parameter', `s3://bucket/x?sessionToken=${SECRET}`, /parameter "sessionToken" looks like a credential/],
  ['a percent-encoded parameter name', `s3://bucket/x?secret%41ccessKey=${SECRET}`, /parameter "secretAccessKey" looks like a credential/],
  ['a password parameter', `s3://bucket/x?password=${PASS}`, /parameter "password" looks like a credential/],
  ['user:PASS@ in the store URL', `s3://user:${PASS}@bucket/x`, /credentials do not belong in the URL/],
  ['user:PASS@ in the endpoint', `s3://bucket/x?endpoint=http://user:${PASS}@127.0.0.1:9`, /the endpoint carries credentials \(user:password@\)/],
  ['a percent-encoded endpoint with user:PASS@', `s3://bucket/x?endpoint=${encodeURIComponent(`http://user:${PASS}@127.0.0.1:9`)}`, /the endpoint carries credentials/],
  ['a "/" in the endpoint password', `s3://bucket/x?endpoint=http://user:ab/${PASS}@127.0.0.1:9`, /the endpoint carries credentials/],
];

describe('credentials in a store URL', () => {
  for (const [what, url, pattern] of refusals) {
    it(`${what} is refused with a redacted message naming the environment`, () => {
      const error = (() => {
        try {
          openStore(url, { clock: systemClock });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(StoreConfigError);
      const message = (error as Error).message;
      expect(message).toMatch(pattern);
      expect(message).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
      expect(message).not.toContain(SECRET);
      expect(message).not.toContain(PASS);
    });
  }

  it('every CLI prints the refusal as one redacted line, --debug stack included', async () => {
    const runs: Array<[Parameters<typeof runBuiltCli>[0], string[]]> = [
      ['replay-node', ['status', '--store', refusals[0]![1], '--run', 'r1', '--debug']],
      ['replay-node', ['doctor', '--store', refusals[5]![1]]],
      ['replay-observer', ['serve', '--store', refusals[5]![1], '--no-gossip', '--port', '0']],
      ['replay-manifest', ['list', '--store', refusals[4]![1]]],
    ];
    for (const [cli, args] of runs) {
      const out = await runBuiltCli(cli, args);
      expect(out.exitCode, `${cli} ${args[0]}`).not.toBe(0);
      expect(out.stderr, `${cli} ${args[0]}`).toMatch(new RegExp(`^${cli}: .*(credential|endpoint carries)`));
      if (!args.includes('--debug')) expect(out.stderr.split('\n')).toHaveLength(1);
      expect(out.stdout + out.stderr).not.toContain(SECRET);
      expect(out.stdout + out.stderr).not.toContain(PASS);
    }
  });

  it("commander's own errors, which quote what was typed, are redacted too", async () => {
    const out = await runBuiltCli('replay-node', ['join', '--store', 'memory:', '--run', 'r1', '--runner', `password=${PASS}`]);
    expect(out.exitCode).not.toBe(0);
    expect(out.stderr).toContain("argument 'password=[redacted]' is invalid");
    expect(out.stderr).not.toContain(PASS);
  });
});
