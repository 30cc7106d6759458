// The observer's page script: draws the item grid on a canvas and keeps the
// page live from the run's server-sent events. It never builds HTML from
// values: sections arrive as HTML the server rendered (and escaped), and
// gossip lines are set as text.
'use strict';

(function () {
  const COLOURS = { '.': '#d0d4d9', w: '#2f80ed', x: '#f2994a', r: '#9bc3f5', d: '#27ae60', m: '#eb5757', f: '#b00020', c: '#9b51e0', '?': '#6c757d' };
  const NAMES = { '.': 'pending', w: 'working', x: 'expired', r: 'released', d: 'done', m: 'done, hash mismatch', f: 'failed', c: 'conflict', '?': 'unknown (lease changed or not judged since the last look)' };
  const state = { updates: 0, received: [], cells: '', drawMs: null, drawnAt: null };
  window.replayObserver = state;

  const body = document.body;
  const run = body.dataset.run;
  const live = body.dataset.live;
  const canvas = document.getElementById('grid');
  let layout = null;

  function sizeFor(count) {
    if (count > 40000) return { cell: 3, gap: 0 };
    if (count > 10000) return { cell: 4, gap: 1 };
    if (count > 2000) return { cell: 7, gap: 1 };
    return { cell: 12, gap: 2 };
  }

  function drawAll() {
    if (!canvas) return;
    const started = performance.now();
    const cells = state.cells;
    const { cell, gap } = sizeFor(cells.length);
    const pitch = cell + gap;
    const width = Math.max(pitch, Math.floor((canvas.parentElement.clientWidth || 1200) / pitch) * pitch);
    const columns = width / pitch;
    const rows = Math.max(1, Math.ceil(cells.length / columns));
    canvas.width = width;
    canvas.height = rows * pitch;
    layout = { cell, pitch, columns };
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    let colour = null;
    for (let i = 0; i < cells.length; i++) {
      const next = COLOURS[cells[i]] || '#000';
      if (next !== colour) {
        colour = next;
        ctx.fillStyle = colour;
      }
      ctx.fillRect((i % columns) * pitch, Math.floor(i / columns) * pitch, cell, cell);
    }
    state.drawMs = performance.now() - started;
    // Milliseconds since navigation start when the grid was last drawn in full (the benchmark reads it).
    state.drawnAt = performance.now();
  }

  function drawCell(index, code) {
    if (!canvas || !layout) return;
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = COLOURS[code] || '#000';
    ctx.fillRect((index % layout.columns) * layout.pitch, Math.floor(index / layout.columns) * layout.pitch, layout.cell, layout.cell);
  }

  function cellAt(event) {
    if (!layout) return -1;
    const box = canvas.getBoundingClientRect();
    const x = Math.floor(((event.clientX - box.left) * (canvas.width / box.width)) / layout.pitch);
    const y = Math.floor(((event.clientY - box.top) * (canvas.height / box.height)) / layout.pitch);
    const index = y * layout.columns + x;
    return x < layout.columns && index >= 0 && index < state.cells.length ? index : -1;
  }

  if (canvas) {
    state.cells = canvas.dataset.cells || '';
    drawAll();
    const hover = document.getElementById('grid-hover');
    canvas.addEventListener('mousemove', (event) => {
      const index = cellAt(event);
      if (hover) hover.textContent = index < 0 ? '' : `item #${index}: ${NAMES[state.cells[index]] || '?'} (click to open)`;
    });
    canvas.addEventListener('click', (event) => {
      const index = cellAt(event);
      if (index >= 0) window.location.href = `/runs/${encodeURIComponent(canvas.dataset.run)}/cell/${index}`;
    });
    let frame = 0;
    window.addEventListener('resize', () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(drawAll);
    });
  }

  if (!run || !live || typeof EventSource === 'undefined') return;
  const indicator = document.getElementById('live');
  const itemSection = document.getElementById('item');
  const itemIndex = itemSection ? Number(itemSection.dataset.index) : -1;
  let itemRefresh = null;

  function refreshItem() {
    if (itemRefresh || !itemSection) return;
    itemRefresh = fetch(`${window.location.pathname}?fragment=1`, { headers: { accept: 'text/html' } })
      .then((response) => (response.ok ? response.text() : null))
      .then((html) => {
        if (html !== null) itemSection.innerHTML = html;
      })
      .catch(() => {})
      .finally(() => {
        itemRefresh = null;
      });
  }

  function seen(type, data) {
    state.updates += 1;
    state.received.push({ type, at: Date.now(), data });
    if (state.received.length > 500) state.received.splice(0, 100);
    window.dispatchEvent(new CustomEvent('replay:update', { detail: { type } }));
  }

  function setIndicator(text, className) {
    if (!indicator) return;
    indicator.textContent = text;
    indicator.className = className;
  }

  const source = new EventSource(`/api/runs/${encodeURIComponent(run)}/events?fragments=1`);
  source.addEventListener('open', () => setIndicator('live', 'live on'));
  source.addEventListener('error', () => setIndicator('reconnecting…', 'live off'));
  source.addEventListener('fragments', (event) => {
    const fragments = JSON.parse(event.data);
    for (const id of Object.keys(fragments)) {
      const element = document.getElementById(id);
      if (element) element.innerHTML = fragments[id];
    }
    seen('fragments', null);
  });
  source.addEventListener('cells', (event) => {
    state.cells = JSON.parse(event.data).cells;
    drawAll();
    if (itemIndex >= 0) refreshItem();
    seen('cells', null);
  });
  source.addEventListener('cells-diff', (event) => {
    const { changes } = JSON.parse(event.data);
    const cells = state.cells.split('');
    for (const [index, code] of changes) {
      cells[index] = code;
      drawCell(index, code);
      if (index === itemIndex) refreshItem();
    }
    state.cells = cells.join('');
    seen('cells-diff', changes);
  });
  // Gossip times come from other hosts' clocks (the nodes drop those more than a day off, but this page trusts
  // nothing): a value that is not a date shows as dashes instead of throwing a RangeError.
  function clockTime(ms) {
    const date = new Date(typeof ms === 'number' ? ms : NaN);
    return Number.isNaN(date.getTime()) ? '--:--:--' : date.toISOString().slice(11, 19);
  }

  source.addEventListener('gossip', (event) => {
    const message = JSON.parse(event.data);
    seen('gossip', message);
    const log = document.getElementById('event-log');
    if (!log) return;
    const line = document.createElement('li');
    const when = clockTime(message.sentAt);
    line.textContent = `${when} ${message.node} ${message.event}${message.item ? ` ${message.item}` : ''}${message.reason ? ` (${message.reason})` : ''}`;
    log.prepend(line);
    while (log.children.length > 50) log.lastElementChild.remove();
  });
})();
