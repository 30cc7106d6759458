import { describe, expect, it } from 'vitest';
import { ExpiryJudge } from '../../src/lease/expiry.js';
import { StoreClock } from '../../src/node/store-clock.js';
import { WatchedRecords } from '../../src/node/watched-records.js';
import { MemoryStore } from '../../src/store/memory.js';
import { overwrite } from '../../src/store/store.js';
import { ManualClock } from '../../src/time/manual-clock.js';
import { silentLogger } from '../../src/util/logger.js';

const TTL = 10_000;
const PREFIX = 'runs/r/nodes/';

describe('WatchedRecords', () => {
  it('does not read records that were long gone when first listed (a restart reads O(live) records, not every one ever written), but reads them if they change', async () => {
    const clock = new ManualClock();
    const store = new MemoryStore({ clock });
    for (let i = 0; i < 20; i++) await store.put(`${PREFIX}dead-${i}.json`, JSON.stringify({ seq: 1 }), overwrite);
    await clock.advance(10 * TTL);
    await store.put(`${PREFIX}live.json`, JSON.stringify({ seq: 1 }), overwrite);
    const storeClock = new StoreClock(clock);
    storeClock.observe(new Date(clock.now()));
    const records = new WatchedRecords<{ seq: number }>({
      store, clock, logger: silentLogger, storeClock, judge: new ExpiryJudge(clock, { fallbackTtlMs: TTL }), prefix: PREFIX,
      decode: (_key, body) => JSON.parse(Buffer.from(body).toString('utf8')) as { seq: number },
      staleAfterOf: () => TTL, ignoreOlderThanMs: 3 * TTL,
    });
    await records.refresh(true);
    expect(records.reads).toBe(1);
    expect(records.get('live')).toMatchObject({ gone: false, record: { seq: 1 } });
    expect(records.get('dead-3')).toMatchObject({ gone: true });
    expect(records.get('dead-3')?.record).toBeUndefined();
    await records.refresh(true);
    expect(records.reads).toBe(1);
    // A node restarted under an old id writes again: its new record is read.
    await store.put(`${PREFIX}dead-3.json`, JSON.stringify({ seq: 2 }), overwrite);
    await records.refresh(false);
    expect(records.reads).toBe(2);
    expect(records.get('dead-3')).toMatchObject({ gone: false, record: { seq: 2 } });
  });
});
