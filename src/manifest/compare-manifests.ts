import type { Manifest } from './manifest.js';

/**
 * When two manifests define the same run. Compared: everything a node acts
 * on, as canonical JSON (keys sorted, so field order and formatting do not
 * matter). Ignored: `createdAt` (when it was made) and `source` (what file
 * it was made from): provenance, which differs between two operators
 * publishing the same run at the same time, and must not make the second
 * publish fail.
 */
const PROVENANCE = new Set(['createdAt', 'source']);

/** Top-level fields whose content differs, sorted; empty when the manifests define the same run. */
export function manifestDifferences(a: Manifest, b: Manifest): string[] {
  const fields = new Set([...Object.keys(a), ...Object.keys(b)].filter((field) => !PROVENANCE.has(field)));
  const left = a as unknown as Record<string, unknown>;
  const right = b as unknown as Record<string, unknown>;
  return [...fields].filter((field) => canonicalJson(left[field]) !== canonicalJson(right[field])).sort();
}

/** JSON with object keys sorted at every level; `undefined` members dropped as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  ) ?? 'undefined';
}
