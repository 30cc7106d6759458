import { html, seg, type SafeHtml } from './html.js';

export interface PageOptions {
  title: string;
  /** The run the page belongs to (nav links, the live stream). */
  run?: string;
  /** What the script keeps live: `overview` sections, the `item` fragment, or nothing. */
  live?: 'overview' | 'item' | 'grid' | 'nodes';
  body: SafeHtml;
}

/** The page frame: no inline script or style anywhere (the CSP forbids both); the script reads data-* attributes. */
export function page(options: PageOptions): string {
  const run = options.run;
  const nav = run
    ? html`<nav><a href="/">runs</a> / <a href="/runs/${seg(run)}">${run}</a> · <a href="/runs/${seg(run)}/grid">grid</a> · <a href="/runs/${seg(run)}/nodes">nodes</a> · <a href="/api/runs/${seg(run)}">JSON</a></nav>`
    : html`<nav><a href="/">runs</a> · <a href="/api">API</a> · <a href="/metrics">metrics</a></nav>`;
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · replay observer</title>
<link rel="stylesheet" href="/static/observer.css">
<script src="/static/observer.js" defer></script>
</head>
<body data-run="${run ?? ''}" data-live="${options.live ?? ''}">
<header>${nav}<span id="live" class="live" title="live updates">offline</span></header>
<main>
${options.body}
</main>
</body>
</html>
`.value}`;
}
