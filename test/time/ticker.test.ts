import { describe, expect, it } from 'vitest';
import { Ticker, within } from '../../src/time/ticker.js';
import { ManualClock } from '../../src/time/manual-clock.js';

describe('Ticker', () => {
  it('ticks at start, every interval, and at once when woken; stop ends it', async () => {
    const clock = new ManualClock();
    const ticks: number[] = [];
    const ticker = new Ticker(clock, 1_000, () => void ticks.push(clock.monotonic()), () => {});
    ticker.start();
    ticker.start(); // idempotent
    await clock.advance(0);
    await clock.advance(2_500);
    ticker.wake();
    await clock.advance(0);
    expect(ticks).toEqual([0, 1_000, 2_000, 2_500]);
    await ticker.stop();
    await clock.advance(5_000);
    expect(ticks).toHaveLength(4);
  });

  it('reports a failing tick and keeps going', async () => {
    const clock = new ManualClock();
    const errors: unknown[] = [];
    let n = 0;
    const ticker = new Ticker(clock, 100, () => {
      n += 1;
      if (n === 1) throw new Error('boom');
    }, (error) => errors.push(error));
    ticker.start();
    await clock.advance(250);
    expect(n).toBe(3);
    expect(errors).toHaveLength(1);
    await ticker.stop();
  });
});

describe('within', () => {
  it('returns the outcome, or undefined once the time is up', async () => {
    const clock = new ManualClock();
    expect(await within(clock, 100, Promise.resolve('done'))).toBe('done');
    const pending = within(clock, 100, new Promise(() => {}));
    await clock.advance(100);
    expect(await pending).toBeUndefined();
  });
});
