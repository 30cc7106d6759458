import type { Manifest } from '../../manifest/manifest.js';
import { resolveSnapshotHashes, type SnapshotHashEvent, type SnapshotHashSource } from '../../manifest/snapshot-hashes.js';
import type { Store } from '../../store/store.js';
import { systemClock } from '../../time/system-clock.js';
import { systemIds } from '../../util/ids.js';

/**
 * The manifest with each snapshot's sha256 filled in (given, record,
 * `.sha256` file, or --hash-snapshots), and what to tell the user once it is
 * published (stderr: stdout is the command's answer, or the manifest itself
 * with --dry-run): where the hashes came from, and how many snapshots are
 * left unverified with the fix. A line per snapshot hashed goes out as it
 * happens.
 */
export async function withSnapshotHashes(
  store: Store,
  manifest: Manifest,
  hash: boolean,
  write: (line: string) => void = stderrLine,
): Promise<{ manifest: Manifest; notes: string[] }> {
  const resolved = await resolveSnapshotHashes({ store, clock: systemClock, ids: systemIds }, manifest, { hash, onEvent: (event) => write(eventLine(event)) });
  const notes: string[] = [];
  const total = resolved.sources.size + resolved.unverified.length;
  const counts = countSources(resolved.sources);
  if (counts.record + counts.sidecar + counts.hashed > 0) {
    const parts = [
      counts.given && `${counts.given} given`,
      counts.record && `${counts.record} from snapshot records`,
      counts.sidecar && `${counts.sidecar} from .sha256 files`,
      counts.hashed && `${counts.hashed} hashed`,
    ].filter(Boolean);
    notes.push(`sha256 of ${resolved.sources.size} of ${total} snapshots: ${parts.join(', ')}; nodes verify their downloads`);
  }
  if (resolved.unverified.length > 0) {
    notes.push(
      `note: ${resolved.unverified.length} of ${total} snapshots are unverified (no sha256 given, no snapshots/<name>.json record or .sha256 file), ` +
        'so nodes will not check their downloads; add --hash-snapshots to compute them (runs are immutable: under a new run id once published)',
    );
  }
  return { manifest: resolved.manifest, notes };
}

function eventLine(event: SnapshotHashEvent): string {
  switch (event.kind) {
    case 'hashing':
      return `hashing ${event.count} snapshot${event.count === 1 ? '' : 's'} (${formatBytes(event.bytes)}) from the store, ${event.concurrency} at a time`;
    case 'hashed':
      return `hashed ${event.done}/${event.count} ${event.key}: ${formatBytes(event.bytes)} in ${(event.ms / 1000).toFixed(1)} s, sha256 ${event.sha256}`;
    case 'retry':
      return `hashing ${event.key} failed (${event.error}); try ${event.attempt + 1} of ${event.attempts} in ${(event.delayMs / 1000).toFixed(1)} s`;
  }
}

function countSources(sources: Map<string, SnapshotHashSource>): Record<SnapshotHashSource, number> {
  const counts = { given: 0, record: 0, sidecar: 0, hashed: 0 };
  for (const source of sources.values()) counts[source] += 1;
  return counts;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${bytes} bytes`;
}

export function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`);
}
