import { readFile } from 'node:fs/promises';

export interface StaticFile {
  type: string;
  body: Buffer;
}

/** The page script and stylesheet, read once at start from `static/` at the package root (beside src/ and dist/). */
export async function loadStaticFiles(): Promise<Map<string, StaticFile>> {
  const dir = new URL('../../../static/', import.meta.url);
  const files = new Map<string, StaticFile>();
  files.set('observer.js', { type: 'text/javascript; charset=utf-8', body: await readFile(new URL('observer.js', dir)) });
  files.set('observer.css', { type: 'text/css; charset=utf-8', body: await readFile(new URL('observer.css', dir)) });
  return files;
}
