/**
 * The human form of a RunStatus (`replay-node status` without --json):
 * summary lines, then a node table, then what went wrong. Values from the
 * bucket are printed as they are; control characters are replaced so a
 * crafted node name cannot rewrite the operator's terminal.
 */
import { formatTable } from '../util/table.js';
import type { RunStatus } from './run-status.js';

export function formatStatus(s: RunStatus): string {
  const out: string[] = [];
  const m = s.manifest;
  out.push(`run         ${clean(s.run)}${s.complete ? '' : '  (incomplete: some objects could not be read yet)'}`);
  if (m) {
    out.push(`manifest    ${m.intervals} intervals, ${m.items} items (replicas ${m.replicas}), blocks ${m.firstBlock}-${m.lastBlock}, nodeos ${clean(m.nodeosVersion ?? '-')}`);
  } else {
    out.push('manifest    missing or unreadable (see problems)');
  }
  const p = s.progress;
  out.push(`progress    ${p.percentBlocks} % of blocks (${p.blocksDone}/${p.blocksTotal}), ${p.percentItems} % of items; ${p.blocksPerSecond} blocks/s; ETA ${formatDuration(p.etaSeconds)}`);
  const i = s.items;
  // `unknown` only when there are some (a lease changed and could not be read, or was last seen too long ago to judge).
  out.push(`items       pending ${i.pending}  working ${i.working}  expired ${i.expired}  released ${i.released}  done ${i.done}  failed ${i.failed}  conflict ${i.conflict}${i.unknown ? `  unknown ${i.unknown}` : ''}  (total ${i.total})`);
  const v = s.verdicts;
  out.push(`verdicts    match ${v.match}  mismatch ${v.mismatch}  unverified ${v.unverified}  conflict ${v.conflict}${v.unread ? `  (not read yet ${v.unread})` : ''}`);
  out.push(`continuity  ${s.continuity.checked} boundaries checked, ${s.continuity.breaks.length} breaks`);
  out.push('');
  if (s.nodes.length === 0) out.push('no nodes');
  else {
    out.push(
      formatTable(
        ['node', 'state', 'items', 'head block', 'blocks/s', 'heartbeat', 'host', 'peer id'],
        s.nodes.map((n) => [
          clean(n.node), stateText(n), n.items.map((it) => clean(it.item)).join(',') || '-', n.headBlock ?? '-', n.blocksPerSecond,
          `${(n.heartbeatAgeMs / 1000).toFixed(1)} s`, clean(n.host), clean(n.peerId ?? '-'),
        ]),
      ).trimEnd(),
    );
  }
  section(out, 'failed items', ['item', 'attempts', 'reason', 'node', 'message'], s.failed.map((f) => [f.item, f.attempts, clean(f.reason ?? '-'), clean(f.node ?? '-'), clean(f.message ?? '-')]));
  section(out, 'conflicts', ['item', 'canonical node', 'canonical end hash', 'other node', 'other end hash'], s.conflicts.flatMap((c) =>
    c.found.map((f) => [c.item, clean(c.canonical.node), clean(c.canonical.endHash), clean(f.node), clean(f.endHash)]),
  ));
  section(out, 'hash mismatches', ['item', 'end hash', 'expected', 'node'], s.mismatches.map((x) => [x.item, clean(x.endHash), clean(x.expectedEndHash), clean(x.node)]));
  section(out, 'continuity breaks', ['block', 'end of', 'end hash', 'start of', 'start hash'], s.continuity.breaks.map((b) => [b.block, b.endItem, clean(b.endHash), b.startItem, clean(b.startHash)]));
  section(out, 'problems', ['key', 'problem'], s.problems.map((x) => [clean(x.key), clean(x.problem)]));
  return `${out.join('\n')}\n`;
}

function section(out: string[], title: string, header: string[], rows: Array<Array<string | number>>): void {
  if (rows.length === 0) return;
  out.push('', `${title} (${rows.length})`, formatTable(header, rows).trimEnd());
}

/** `1h 02m`, `3m 20s`, `45s`, or `-`. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.round(seconds);
  if (s >= 86_400) return `${Math.floor(s / 86_400)}d ${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

function clean(value: string): string {
  return String(value).replace(CONTROL, '?');
}

/** `waiting (store unavailable since …)` while the node says the store does not answer it. */
function stateText(n: RunStatus['nodes'][number]): string {
  return n.storeUnavailableSince === null ? n.state : `${n.state} (store unavailable since ${clean(n.storeUnavailableSince)})`;
}
