/**
 * The sections of a run's pages. Each renders to the inner HTML of a
 * `<section id=...>`; the live stream sends the same fragments, so the
 * browser never builds HTML from raw values (everything is escaped here).
 */
import { formatDuration, ITEM_STATES, type NodeStatus, type RunStatus } from '../../status/index.js';
import type { StoreErrorInfo } from '../store-trouble.js';
import { html, seg, type SafeHtml } from './html.js';

export type SectionName = 'summary' | 'trouble' | 'nodes';

/** `storeError`: the store does not answer; the summary says so above the (last read) numbers. */
export function renderSections(status: RunStatus, storeError: StoreErrorInfo | null = null): Record<SectionName, SafeHtml> {
  return { summary: html`${storeErrorBanner(storeError)}${summary(status)}`, trouble: trouble(status), nodes: nodeTable(status) };
}

/** The one-line store error and since when, or nothing. Also used by the run list. */
export function storeErrorBanner(e: StoreErrorInfo | null): SafeHtml {
  if (!e) return html``;
  return html`<p class="bad store-error" id="store-error">The store does not answer (since ${e.since}, ${e.failures} failed ${e.failures === 1 ? 'try' : 'tries'}; retrying): <code>${e.message}</code>. What is shown is what was last read.</p>`;
}

export function section(name: SectionName, inner: SafeHtml): SafeHtml {
  return html`<section id="${name}" class="${name}">${inner}</section>`;
}

function summary(s: RunStatus): SafeHtml {
  const p = s.progress;
  const m = s.manifest;
  return html`
<h1>${s.run}${s.complete ? '' : html` <small class="warn">loading from the store…</small>`}</h1>
<p class="meta">${m ? html`${m.intervals} intervals, ${m.items} items${m.replicas > 1 ? html` (${m.replicas} replicas)` : ''}, blocks ${m.firstBlock}–${m.lastBlock}, nodeos ${m.nodeosVersion ?? '-'}` : 'no sound manifest (see problems)'}</p>
<div class="progress"><progress max="100" value="${p.percentBlocks}"></progress>
<span><b data-field="percentBlocks">${p.percentBlocks}</b> % of blocks · ${p.percentItems} % of items · ${p.blocksPerSecond} blocks/s · ETA ${formatDuration(p.etaSeconds)}</span></div>
<table class="counts"><tr>${ITEM_STATES.map((state) => html`<th><i class="sw ${state}"></i>${state}</th>`)}<th>total</th></tr>
<tr>${ITEM_STATES.map((state) => html`<td data-state="${state}">${s.items[state]}</td>`)}<td>${s.items.total}</td></tr></table>
<p class="verdicts">hashes: <b>${s.verdicts.match}</b> match · <b class="${s.verdicts.mismatch ? 'bad' : ''}">${s.verdicts.mismatch}</b> mismatch · <b>${s.verdicts.unverified}</b> unverified · <b class="${s.verdicts.conflict ? 'bad' : ''}">${s.verdicts.conflict}</b> conflict${s.verdicts.unread ? html` · <span class="warn">${s.verdicts.unread} being read</span>` : ''} · continuity: ${s.continuity.checked} checked, <b class="${s.continuity.breaks.length ? 'bad' : ''}">${s.continuity.breaks.length}</b> breaks</p>`;
}

function itemLink(run: string, item: string): SafeHtml {
  return html`<a href="/runs/${seg(run)}/items/${seg(item)}">${item}</a>`;
}

function trouble(s: RunStatus): SafeHtml {
  const run = s.run;
  const parts: SafeHtml[] = [];
  const more = (shown: number, total: number) => (total > shown ? html`<p class="more">and ${total - shown} more (JSON: /api/runs/${run})</p>` : '');
  if (s.conflicts.length > 0) {
    parts.push(html`<h2 class="bad">Conflicts (${s.items.conflict})</h2><table><tr><th>item</th><th>canonical</th><th>other results</th></tr>
${s.conflicts.map((c) => html`<tr><td>${itemLink(run, c.item)}</td><td>${c.canonical.node}: <code>${c.canonical.endHash}</code></td><td>${c.found.map((f) => html`<div>${f.node}: <code>${f.endHash}</code></div>`)}</td></tr>`)}</table>${more(s.conflicts.length, s.items.conflict)}`);
  }
  if (s.mismatches.length > 0) {
    parts.push(html`<h2 class="bad">Hash mismatches (${s.verdicts.mismatch})</h2><table><tr><th>item</th><th>end hash</th><th>expected</th><th>node</th></tr>
${s.mismatches.map((x) => html`<tr><td>${itemLink(run, x.item)}</td><td><code>${x.endHash}</code></td><td><code>${x.expectedEndHash}</code></td><td>${x.node}</td></tr>`)}</table>${more(s.mismatches.length, s.verdicts.mismatch)}`);
  }
  if (s.continuity.breaks.length > 0) {
    parts.push(html`<h2 class="bad">Chain-continuity breaks</h2><table><tr><th>block</th><th>end of</th><th>start of</th></tr>
${s.continuity.breaks.map((b) => html`<tr><td>${b.block}</td><td>${itemLink(run, b.endItem)} <code>${b.endHash}</code></td><td>${itemLink(run, b.startItem)} <code>${b.startHash}</code></td></tr>`)}</table>`);
  }
  if (s.failed.length > 0) {
    parts.push(html`<h2 class="bad">Failed items (${s.items.failed})</h2><table><tr><th>item</th><th>attempts</th><th>reason</th><th>node</th><th>message</th></tr>
${s.failed.map((f) => html`<tr><td>${itemLink(run, f.item)}</td><td>${f.attempts}</td><td>${f.reason ?? '-'}</td><td>${f.node ?? '-'}</td><td>${f.message ?? ''}</td></tr>`)}</table>${more(s.failed.length, s.items.failed)}`);
  }
  if (s.recentFailures.length > 0) {
    parts.push(html`<h2>Recent failed attempts</h2><table><tr><th>item</th><th>attempt</th><th>node</th><th>reason</th><th>message</th><th>at</th></tr>
${s.recentFailures.map((f) => html`<tr><td>${itemLink(run, f.item)}</td><td>${f.attempt}${f.final ? ' (final)' : ''}</td><td>${f.node}</td><td>${f.reason}</td><td>${f.message}</td><td>${f.at}</td></tr>`)}</table>`);
  }
  if (s.problems.length > 0) {
    parts.push(html`<h2 class="warn">Objects skipped (${s.problems.length})</h2><table><tr><th>key</th><th>problem</th></tr>
${s.problems.map((x) => html`<tr><td><code>${x.key}</code></td><td>${x.problem}</td></tr>`)}</table>`);
  }
  if (parts.length === 0) return html`<p class="ok">No conflicts, mismatches, continuity breaks, failures or bad objects.</p>`;
  return html`${parts}`;
}

function nodeTable(s: RunStatus): SafeHtml {
  if (s.nodes.length === 0) return html`<h2>Nodes</h2><p>No node records yet.</p>`;
  return html`<h2>Nodes (${s.nodes.filter((n) => n.state !== 'dead' && n.state !== 'stopped').length} live)</h2>
<table class="nodes"><tr><th>node</th><th>state</th><th>items</th><th>head block</th><th>blocks/s</th><th>heartbeat</th><th>host</th><th>done</th><th>peer id</th></tr>
${s.nodes.map((n) => nodeRow(s.run, n))}</table>`;
}

function nodeRow(run: string, n: NodeStatus): SafeHtml {
  return html`<tr class="node-${n.state}"><td class="node-name">${n.node}</td><td>${n.state}${n.reason ? html` <small>(${n.reason})</small>` : ''}${n.storeUnavailableSince ? html` <small>(store unavailable since ${n.storeUnavailableSince})</small>` : ''}</td>
<td>${n.items.length === 0 ? '-' : n.items.map((i) => html`<div>${itemLink(run, i.item)}</div>`)}</td><td>${n.headBlock ?? '-'}</td><td>${n.blocksPerSecond}${n.progressFrom === 'gossip' ? html` <small title="from gossip">●</small>` : ''}</td>
<td>${(n.heartbeatAgeMs / 1000).toFixed(1)} s</td><td>${n.host}</td><td>${n.counts.done}</td><td><code>${n.peerId ?? '-'}</code></td></tr>`;
}
