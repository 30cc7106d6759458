import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PhaseRun } from './chaos-phase.js';

/**
 * BENCH_LOG_DIR: keeps a phase's raw material for a closer look:
 * `<dir>/<phase>/<node>.jsonl` (each log line with `at`, seconds from the
 * phase start on the bench's clock, as the breakdown uses it, plus the
 * node's non-JSON stderr), `requests.jsonl` (the proxy's record, same
 * clock) and `kills.json`.
 */
export async function saveLogs(dir: string, phase: PhaseRun): Promise<string> {
  const out = join(dir, phase.config.name);
  await mkdir(out, { recursive: true });
  const s = (at: number | undefined): number | undefined => (at === undefined ? undefined : Math.round(at - phase.startedAt) / 1000);
  await Promise.all(phase.nodes.map((n) => {
    const lines = n.process.logs.map((line, i) => JSON.stringify({ at: s(n.process.arrivals[i]), ...line }));
    const meta = { spawnedAt: s(n.spawnedAt), killedAt: s(n.killedAt), exitedAt: s(n.process.exitedAt), host: n.host, skewMs: n.skewMs, group: n.group, text: n.process.text };
    return writeFile(join(out, `${n.process.node}.jsonl`), [JSON.stringify(meta), ...lines].join('\n') + '\n');
  }));
  const requests = phase.requests.map((r) => JSON.stringify({ ...r, startMs: s(r.startMs), endMs: s(r.endMs) }));
  await writeFile(join(out, 'requests.jsonl'), requests.join('\n') + '\n');
  await writeFile(join(out, 'kills.json'), JSON.stringify(phase.kills.map((k) => ({ ...k, at: s(k.at) })), null, 1));
  return out;
}
