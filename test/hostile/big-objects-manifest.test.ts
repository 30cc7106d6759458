/**
 * Issue 19, part 1: a manifest legitimately holds 100,000+ intervals, so it
 * is not bounded like a small record; `replay-manifest show --table` on one
 * with 200,000 intervals died with "Maximum call stack size exceeded"
 * (`Math.max(...column)` in the table formatter). It prints now.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStore } from '../../src/store/file.js';
import { systemClock } from '../../src/time/system-clock.js';
import { runBuiltCli } from '../support/cli.js';
import { RunFixture } from '../status/support/run-fixture.js';

const INTERVALS = 200_000;
let dir: string;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'big-manifest-'));
  url = pathToFileURL(dir).href;
  const store = createFileStore(dir, { clock: systemClock });
  await new RunFixture(store, 'm1').publish({ count: INTERVALS, span: 10 });
  await store.close();
}, 180_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a manifest with 200,000 intervals', () => {
  it('replay-manifest show --table prints every interval, aligned', async () => {
    const out = await runBuiltCli('replay-manifest', ['show', '--store', url, '--run', 'm1', '--table']);
    expect([out.exitCode, out.stderr]).toEqual([0, '']);
    const lines = out.stdout.trimEnd().split('\n');
    expect(out.stdout).toContain(`intervals   ${INTERVALS} (${INTERVALS} items), blocks 0-${INTERVALS * 10}`);
    const header = lines.findIndex((line) => /^ *start +end +blocks/.test(line));
    expect(lines.length - header - 1).toBe(INTERVALS);
    // Right-aligned numbers: the widest start (1999990) sets the column.
    expect(lines[header + 1]).toMatch(/^ {6}0 {2}/);
    expect(lines.at(-1)).toMatch(/^1999990 {2}2000000 {2}/);
  });

  it('replay-node status reads the run (every item pending)', async () => {
    const out = await runBuiltCli('replay-node', ['status', '--store', url, '--run', 'm1', '--json']);
    expect(out.exitCode).toBe(0);
    expect((JSON.parse(out.stdout) as { items: { pending: number } }).items.pending).toBe(INTERVALS);
  });
});
