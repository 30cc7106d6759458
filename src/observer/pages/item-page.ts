/** An item's page: interval, state, lease, result, conflicts, and every failed attempt with its log tail. */
import type { ItemDetail } from '../../status/index.js';
import { html, type SafeHtml } from './html.js';
import { page } from './layout.js';

export function itemPage(d: ItemDetail): string {
  return page({ title: `${d.item} · ${d.run}`, run: d.run, live: 'item', body: html`<section id="item" data-index="${d.index}">${itemSection(d)}</section>` });
}

function row(label: string, value: SafeHtml | string | number | null | undefined): SafeHtml {
  return html`<tr><th>${label}</th><td>${value ?? '-'}</td></tr>`;
}

export function itemSection(d: ItemDetail): SafeHtml {
  const lease = d.lease;
  const result = d.result;
  return html`<h1>${d.item} <span class="badge ${d.state}">${d.state}</span></h1>
<table class="kv">${row('interval', `${d.start}–${d.end} (${d.end - d.start} blocks)`)}${d.replica !== null ? row('replica', d.replica) : ''}
${row('starts from', d.snapshot ?? 'genesis')}${row('expected end hash', d.expectedEndHash ? html`<code>${d.expectedEndHash}</code>` : 'none')}
${row('verdict', d.verdict ?? '-')}${row('grid cell', `#${d.index}`)}</table>
<h2>Lease</h2>
${lease
    ? html`<table class="kv">${row('state', lease.state)}${row('holder', lease.holder)}${row('epoch', lease.epoch)}${row('attempts', lease.attempts)}
${row('failed by', lease.failedBy.join(', ') || 'nobody')}${row('TTL', `${lease.ttlMs} ms`)}${row('unchanged for', `${(lease.ageMs / 1000).toFixed(1)} s (store clock)`)}
${row('acquired at (holder clock)', lease.acquiredAt)}${row('renewed at (holder clock)', lease.renewedAt)}${lease.releasedAt ? row('released at', lease.releasedAt) : ''}${lease.reason ? row('reason', lease.reason) : ''}</table>
${d.holder ? html`<p>Holder ${d.holder.node} is <b>${d.holder.state}</b> (heartbeat ${(d.holder.heartbeatAgeMs / 1000).toFixed(1)} s ago).</p>` : ''}`
    : d.leaseProblem ? html`<p class="warn">${d.leaseProblem}</p>` : html`<p>No lease: never claimed.</p>`}
<h2>Result</h2>
${result
    ? html`<table class="kv">${row('end hash', html`<code>${result.endHash}</code>`)}${row('start hash', result.startHash ? html`<code>${result.startHash}</code>` : '-')}
${row('head block', `${result.headBlock} (${result.headBlockId})`)}${row('node', result.node)}${row('epoch', result.epoch)}${row('runner', `${result.runner}${result.nodeosVersion ? ` (nodeos ${result.nodeosVersion})` : ''}`)}
${row('started / finished (node clock)', `${result.startedAt} / ${result.finishedAt}`)}${row('timings', Object.entries(result.timings ?? {}).map(([k, v]) => `${k} ${v} ms`).join(', ') || '-')}</table>`
    : html`<p>No result yet.</p>`}
${d.conflicts.length > 0
    ? html`<h2 class="bad">Conflicts (${d.conflicts.length})</h2><table><tr><th>node</th><th>epoch</th><th>end hash</th><th>start hash</th><th>detected</th></tr>
${d.conflicts.map((c) => html`<tr><td>${c.found.node}</td><td>${c.found.epoch}</td><td><code>${c.found.endHash}</code></td><td><code>${c.found.startHash ?? '-'}</code></td><td>${c.detectedAt}</td></tr>`)}</table>`
    : ''}
<h2>Failed attempts (${d.failures.length})</h2>
${d.failures.length === 0
    ? html`<p>None.</p>`
    : d.failures.map((f) => html`<details class="failure"${f.final ? html` open` : ''}><summary>attempt ${f.attempt} by ${f.node}: <b>${f.reason}</b> ${f.message} (${f.at})${f.final ? ' — final' : ''}</summary>
<p>exit code ${f.exitCode ?? '-'}, signal ${f.signal ?? '-'}, epoch ${f.epoch}</p><pre class="log">${(Array.isArray(f.logTail) ? f.logTail : []).join('\n')}</pre></details>`)}`;
}
