/**
 * Every object the product writes is small, pretty JSON with a
 * `"schema": "replay/<kind>/v1"` field, so `cat` shows it and readers can
 * skip what they do not understand.
 */
export type SchemaKind = 'manifest' | 'lease' | 'result' | 'conflict' | 'failure' | 'node' | 'control' | 'observer' | 'digest' | 'snapshot';

export function schemaOf(kind: SchemaKind): `replay/${SchemaKind}/v1` {
  return `replay/${kind}/v1`;
}

/** Serialises an object for the store: pretty, with a trailing newline. */
export function encodeJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Bad data in the bucket: reported and skipped, never fatal (design §7). */
export class CorruptObjectError extends Error {
  override readonly name = 'CorruptObject';
  constructor(readonly key: string, reason: string) {
    super(`corrupt object ${key}: ${reason}; delete or fix it (it is skipped until then)`);
  }
}

/** Parses a stored JSON object and checks its schema tag. */
export function decodeJson<T extends { schema: string }>(key: string, body: Uint8Array | string, kind: SchemaKind): T {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    throw new CorruptObjectError(key, 'not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CorruptObjectError(key, 'not a JSON object');
  }
  const schema = (value as { schema?: unknown }).schema;
  if (schema !== schemaOf(kind)) {
    throw new CorruptObjectError(key, `schema is ${JSON.stringify(schema)}, expected "${schemaOf(kind)}"`);
  }
  return value as T;
}
