import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ThrottleReport } from '../../src/gossip/throttle-report.js';
import { ManualClock } from '../../src/time/manual-clock.js';

function report() {
  const clock = new ManualClock();
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { clock, lines, r: new ThrottleReport(clock, logger, (peer) => (peer === 'P-x' ? 'host-x' : undefined), 10_000) };
}

describe('ThrottleReport', () => {
  it('logs a flooding peer at once, then once per period with the count since the last line', async () => {
    const { clock, lines, r } = report();
    for (let i = 0; i < 1000; i++) r.drop('P-x', i % 2 ? 'throttled' : 'rateLimited');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, peerId: 'P-x', peer: 'host-x', rateLimited: 1, throttled: 0 });
    expect(lines[0]!.msg).toMatch(/throttling a peer/);
    await clock.advance(10_000);
    r.drop('P-x', 'throttled');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ peerId: 'P-x', throttled: 501, rateLimited: 499 }); // this drop included
  });

  it('reports each peer on its own', () => {
    const { lines, r } = report();
    r.drop('P-x', 'throttled');
    r.drop('P-y', 'throttled');
    r.drop('P-y', 'throttled');
    expect(lines.map((l) => l.peerId)).toEqual(['P-x', 'P-y']);
  });
});
