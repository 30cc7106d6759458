/** The run list, a run's overview, its grid page and its node page. */
import { CELL_CODES, type RunStatus } from '../../status/index.js';
import type { LiveView } from '../live-run.js';
import type { StoreErrorInfo } from '../store-trouble.js';
import { html, seg, type SafeHtml } from './html.js';
import { page } from './layout.js';
import { renderSections, section, storeErrorBanner } from './run-sections.js';

export interface RunListEntry {
  run: string;
  problem?: string;
  status?: RunStatus;
  storeError?: StoreErrorInfo | null;
}

/** `storeError`: listing the runs failed (the list is then what was found before, possibly nothing). */
export function runListPage(runs: readonly RunListEntry[], storeError: StoreErrorInfo | null = null): string {
  const rows = runs.map(({ run, problem, status: s, storeError: runError }) =>
    s
      ? html`<tr><td><a href="/runs/${seg(run)}">${run}</a>${runError ? html` <small class="bad">store does not answer</small>` : ''}</td><td>${s.items.total}</td><td><progress max="100" value="${s.progress.percentBlocks}"></progress> ${s.progress.percentBlocks} %</td>
<td>${s.items.working}</td><td>${s.items.done}</td><td class="${s.items.failed ? 'bad' : ''}">${s.items.failed}</td><td class="${s.items.conflict ? 'bad' : ''}">${s.items.conflict}</td><td class="${s.verdicts.mismatch ? 'bad' : ''}">${s.verdicts.mismatch}</td><td>${s.nodes.filter((n) => n.state !== 'dead' && n.state !== 'stopped').length}</td></tr>`
      : html`<tr><td>${run}</td><td colspan="8">${problem ?? (runError ? html`<span class="bad">the store does not answer: ${runError.message}</span>` : 'loading…')}</td></tr>`,
  );
  const empty = storeError
    ? html`<p>The runs in this store cannot be listed until it answers.</p>`
    : html`<p>No runs in this store yet (publish one with <code>replay-manifest publish</code>).</p>`;
  const body = runs.length === 0
    ? html`<h1>Runs</h1>${storeErrorBanner(storeError)}${empty}`
    : html`<h1>Runs</h1>${storeErrorBanner(storeError)}<table class="runs"><tr><th>run</th><th>items</th><th>blocks done</th><th>working</th><th>done</th><th>failed</th><th>conflict</th><th>mismatch</th><th>live nodes</th></tr>${rows}</table>`;
  return page({ title: 'runs', body });
}

export function overviewPage(view: LiveView): string {
  const s = renderSections(view.status, view.storeError);
  const body = html`${section('summary', s.summary)}${section('trouble', s.trouble)}${section('nodes', s.nodes)}${grid(view.status.run, view.cells)}
<section id="events"><h2>Heard on gossip</h2><ol id="event-log"></ol></section>`;
  return page({ title: view.status.run, run: view.status.run, live: 'overview', body });
}

export function gridPage(view: LiveView): string {
  const s = renderSections(view.status, view.storeError);
  return page({ title: `${view.status.run} grid`, run: view.status.run, live: 'grid', body: html`${section('summary', s.summary)}${grid(view.status.run, view.cells)}` });
}

export function nodesPage(view: LiveView): string {
  const s = renderSections(view.status, view.storeError);
  return page({ title: `${view.status.run} nodes`, run: view.status.run, live: 'nodes', body: section('nodes', s.nodes) });
}

/** Before the first listing is done: the overview's sections, empty; the live stream fills them in. */
export function loadingPage(run: string, storeError: StoreErrorInfo | null = null): string {
  const waiting = html`${storeErrorBanner(storeError)}<p class="warn">Reading the run from the store… this page fills in by itself.</p>`;
  const body = html`${section('summary', html`<h1>${run}</h1>${waiting}`)}${section('trouble', html``)}${section('nodes', html``)}${grid(run, '')}
<section id="events"><h2>Heard on gossip</h2><ol id="event-log"></ol></section>`;
  return page({ title: run, run, live: 'overview', body });
}

const LEGEND: Array<[keyof typeof CELL_CODES, string]> = [
  ['pending', 'pending'], ['working', 'working'], ['expired', 'expired'], ['released', 'released'],
  ['done', 'done'], ['mismatch', 'done, hash mismatch'], ['failed', 'failed'], ['conflict', 'conflict'], ['unknown', 'unknown (needs a fresh read)'],
];

/** A canvas, one cell per item (usable with 100,000 items); the script draws it from data-cells and keeps it live. */
function grid(run: string, cells: string): SafeHtml {
  return html`<section id="grid-section"><h2>Items (${cells.length})</h2>
<p class="legend">${LEGEND.map(([state, label]) => html`<span><i class="sw ${state}"></i>${label}</span>`)}</p>
<canvas id="grid" data-run="${run}" data-cells="${cells}" width="1200" height="40">Item grid (needs a browser with canvas; the JSON is at /api/runs/${run}/grid).</canvas>
<p id="grid-hover" class="hover">Hover over a cell to see its item; click to open it.</p></section>`;
}
