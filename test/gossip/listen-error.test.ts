import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GossipListenError } from '../../src/gossip/errors.js';
import { createGossip } from '../../src/gossip/libp2p-gossip.js';
import { systemClock } from '../../src/time/system-clock.js';
import { systemIds } from '../../src/util/ids.js';
import { silentLogger } from '../../src/util/logger.js';

describe('gossip start', () => {
  it('says in one line which address it cannot listen on and why, and stops cleanly after', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = `/ip4/127.0.0.1/tcp/${(taken.address() as AddressInfo).port}`;
    try {
      const gossip = await createGossip({
        run: 'r', node: 'n', dataDir: await mkdtemp(join(tmpdir(), 'gossip-listen-')), listen: [address],
        clock: systemClock, ids: systemIds, logger: silentLogger,
      });
      const error = await gossip.start().then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(GossipListenError);
      expect((error as Error).message).toBe(
        `gossip cannot listen on ${address} (EADDRINUSE); choose another --p2p-port or --listen, or run with --no-gossip`,
      );
      await gossip.stop();
    } finally {
      taken.close();
    }
  });
});
