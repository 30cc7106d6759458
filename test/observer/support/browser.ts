import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { wallTimer } from '../../support/wall-clock.js';

/** Debian's chromium, headless, with a fresh profile; `close()` removes the profile. */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = await mkdtemp(join(tmpdir(), 'observer-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1280, height: 1000 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What the page script exposes (static/observer.js), for tests and the benchmark. */
export interface ObserverPageState {
  cells: string;
  updates: number;
  drawMs: number | null;
  drawnAt: number | null;
  received: Array<{ type: string; at: number; data: unknown }>;
}

/** The page script's state, read from the page (the function runs in the browser, so it names nothing from here). */
export function pageState(page: Page): Promise<ObserverPageState> {
  return page.evaluate(() => (globalThis as unknown as { replayObserver: ObserverPageState }).replayObserver);
}

/**
 * Resolves once the page's grid shows `code` at `index` (the page script
 * announces each update as a DOM event). The function runs in the browser,
 * serialised: it names no function of its own, since tsx wraps named ones in
 * a helper the page does not have.
 */
export function cellBecomes(page: Page, index: number, code: string, timeoutMs = 20_000): Promise<void> {
  return page.evaluate(
    ([i, c, ms]) =>
      new Promise<void>((resolve, reject) => {
        const g = globalThis as unknown as { replayObserver: ObserverPageState; addEventListener(t: string, f: () => void, o: { signal: AbortSignal }): void };
        if (g.replayObserver.cells[i] === c) return resolve();
        const done = new AbortController();
        const timer = wallTimer(() => {
          done.abort();
          reject(new Error(`cell ${i} did not become ${c} within ${ms} ms`));
        }, ms);
        g.addEventListener('replay:update', () => {
          if (g.replayObserver.cells[i] !== c) return;
          clearTimeout(timer);
          done.abort();
          resolve();
        }, { signal: done.signal });
      }),
    [index, code, timeoutMs] as const,
  );
}
