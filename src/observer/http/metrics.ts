/**
 * Prometheus text exposition of what the observer knows, so existing
 * Grafana setups can chart a run: items by state, blocks, speed (per run and
 * per node), verdicts, failures, conflicts, continuity breaks, plus the
 * observer's own store requests and gossip counters.
 */
import type { GossipCounters } from '../../gossip/gossip.js';
import { ITEM_STATES, type RunStatus } from '../../status/index.js';
import type { RequestCounts } from '../../store/counting-store.js';

export interface MetricsInput {
  runs: Array<{ run: string; status: RunStatus | undefined; failureRecords: number; gossip?: GossipCounters }>;
  storeRequests?: RequestCounts;
  /** False while the store does not answer the observer (run listing or any run's reads). */
  storeUp?: boolean;
  http?: { connections: number; rejectedConnections: number; streams: number; bufferedBytes: number; dropped: number };
}

type Labels = Record<string, string>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

class Exposition {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  metric(name: string, type: 'gauge' | 'counter', help: string, labels: Labels, value: number): void {
    if (!this.declared.has(name)) {
      this.declared.add(name);
      this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    }
    const rendered = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
    this.lines.push(`${name}${rendered ? `{${rendered}}` : ''} ${Number.isFinite(value) ? value : 0}`);
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

export function renderMetrics(input: MetricsInput): string {
  const out = new Exposition();
  // Grouped by metric name, as the exposition format asks.
  const each = (fn: (run: string, s: RunStatus) => void) => {
    for (const { run, status } of input.runs) if (status) fn(run, status);
  };
  each((run, s) => { for (const state of ITEM_STATES) out.metric('replay_items', 'gauge', 'Items of the run by state.', { run, state }, s.items[state]); });
  each((run, s) => out.metric('replay_items_total', 'gauge', 'Items in the run (intervals times replicas).', { run }, s.items.total));
  each((run, s) => out.metric('replay_blocks_done', 'gauge', 'Blocks replayed: items with a result plus progress of working items.', { run }, s.progress.blocksDone));
  each((run, s) => out.metric('replay_blocks_total', 'gauge', 'Blocks in the run (each replica counts).', { run }, s.progress.blocksTotal));
  each((run, s) => out.metric('replay_blocks_per_second', 'gauge', 'Aggregate replay speed of live nodes.', { run }, s.progress.blocksPerSecond));
  each((run, s) => {
    if (s.progress.etaSeconds !== null) out.metric('replay_eta_seconds', 'gauge', 'Remaining blocks at the current speed (absent when nothing moves).', { run }, s.progress.etaSeconds);
  });
  each((run, s) => { for (const [verdict, n] of Object.entries(s.verdicts)) out.metric('replay_verdicts', 'gauge', 'Items with a result by hash verdict.', { run, verdict }, n); });
  each((run, s) => out.metric('replay_continuity_breaks', 'gauge', 'Interval boundaries where the end hash differs from the next start hash.', { run }, s.continuity.breaks.length));
  each((run, s) => out.metric('replay_problems', 'gauge', 'Objects skipped as corrupt or foreign.', { run }, s.problems.length));
  each((run, s) => out.metric('replay_view_complete', 'gauge', '1 when every listed object has been read.', { run }, s.complete ? 1 : 0));
  for (const { run, status, failureRecords } of input.runs) if (status) out.metric('replay_failure_records', 'gauge', 'Failed attempts recorded (failure objects).', { run }, failureRecords);
  each((run, s) => { for (const n of s.nodes) out.metric('replay_node_up', 'gauge', '1 when the node record is live (0: dead or stopped).', { run, node: n.node, state: n.state }, n.state === 'dead' || n.state === 'stopped' ? 0 : 1); });
  each((run, s) => { for (const n of s.nodes) out.metric('replay_node_blocks_per_second', 'gauge', 'Replay speed per node.', { run, node: n.node }, n.blocksPerSecond); });
  each((run, s) => { for (const n of s.nodes) if (n.headBlock !== null) out.metric('replay_node_head_block', 'gauge', 'Highest block a node has replayed in its current items.', { run, node: n.node }, n.headBlock); });
  each((run, s) => { for (const n of s.nodes) out.metric('replay_node_heartbeat_age_seconds', 'gauge', 'Time since the node record last changed.', { run, node: n.node }, n.heartbeatAgeMs / 1000); });
  each((run, s) => { for (const n of s.nodes) out.metric('replay_node_items_done', 'gauge', 'Results the node wrote (its record\'s counter).', { run, node: n.node }, n.counts.done); });
  for (const { run, gossip } of input.runs) {
    if (!gossip) continue;
    out.metric('replay_observer_gossip_accepted_total', 'counter', 'Gossip messages accepted.', { run }, gossip.accepted);
    out.metric('replay_observer_gossip_connections', 'gauge', 'Open gossip connections.', { run }, gossip.connections);
  }
  if (input.storeUp !== undefined) out.metric('replay_observer_store_up', 'gauge', '1 while the store answers this observer, 0 while it does not (the pages say why).', {}, input.storeUp ? 1 : 0);
  const h = input.http;
  if (h) {
    out.metric('replay_observer_http_connections', 'gauge', 'Open HTTP connections.', {}, h.connections);
    out.metric('replay_observer_http_rejected_total', 'counter', 'Connections refused by --max-connections or --max-connections-per-address.', {}, h.rejectedConnections);
    out.metric('replay_observer_event_streams', 'gauge', 'Open event streams.', {}, h.streams);
    out.metric('replay_observer_event_stream_buffered_bytes', 'gauge', 'Unsent bytes over all event streams.', {}, h.bufferedBytes);
    out.metric('replay_observer_event_streams_dropped_total', 'counter', 'Event-stream clients dropped for not reading (--max-buffered-bytes).', {}, h.dropped);
  }
  const r = input.storeRequests;
  if (r) {
    for (const kind of ['get', 'head', 'list', 'put', 'delete'] as const) {
      out.metric('replay_observer_store_requests_total', 'counter', 'Store requests made by this observer.', { kind }, r[kind]);
    }
  }
  return out.toString();
}
