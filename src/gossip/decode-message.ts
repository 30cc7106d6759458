import { isValidName, parseItemId } from '../layout/keys.js';
import {
  EVENT_KINDS, GOSSIP_SCHEMA, HASH_EVENTS, ITEM_EVENTS, MAX_MESSAGE_BYTES, MAX_PROGRESS_ITEMS,
  type EventKind, type EventMessage, type GossipMessage, type ItemProgress, type ProgressMessage,
} from './messages.js';

/**
 * The hand-written validator for gossip payloads: anything a peer sends is
 * untrusted input, so every field is checked and only known fields are kept.
 * Unknown extra fields are ignored (additive changes stay within v1).
 */
export type DecodeResult =
  | { ok: true; message: GossipMessage }
  | { ok: false; reason: 'oversized' | 'malformed'; detail: string };

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const STATE = /^[a-z][a-z-]{0,31}$/;
const HASH = /^[0-9a-fA-F]{16,128}$/;
const MAX_REASON = 300;

class Malformed extends Error {}

export function decodeMessage(data: Uint8Array, expectedType: GossipMessage['type'], maxBytes = MAX_MESSAGE_BYTES): DecodeResult {
  if (data.byteLength > maxBytes) {
    return { ok: false, reason: 'oversized', detail: `${data.byteLength} bytes > ${maxBytes}` };
  }
  try {
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
    } catch {
      throw new Malformed('not UTF-8 JSON');
    }
    const obj = record(value, 'message');
    if (obj.schema !== GOSSIP_SCHEMA) throw new Malformed(`schema ${JSON.stringify(obj.schema)}`);
    if (obj.type !== expectedType) throw new Malformed(`type ${JSON.stringify(obj.type)} on the ${expectedType} topic`);
    const envelope = {
      schema: GOSSIP_SCHEMA,
      run: name(obj.run, 'run'),
      node: name(obj.node, 'node'),
      id: match(obj.id, ULID, 'id'),
      sentAt: count(obj.sentAt, 'sentAt'),
    } as const;
    const message = expectedType === 'progress' ? progress(obj, envelope) : event(obj, envelope);
    return { ok: true, message };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, reason: 'malformed', detail: error.message };
    throw error;
  }
}

type Envelope = Pick<GossipMessage, 'schema' | 'run' | 'node' | 'id' | 'sentAt'>;

function progress(obj: Record<string, unknown>, envelope: Envelope): ProgressMessage {
  if (!Array.isArray(obj.items) || obj.items.length > MAX_PROGRESS_ITEMS) {
    throw new Malformed(`items must be an array of at most ${MAX_PROGRESS_ITEMS}`);
  }
  const items = obj.items.map((raw, i): ItemProgress => {
    const entry = record(raw, `items[${i}]`);
    const blocksPerSecond = entry.blocksPerSecond;
    if (typeof blocksPerSecond !== 'number' || !Number.isFinite(blocksPerSecond) || blocksPerSecond < 0) {
      throw new Malformed(`items[${i}].blocksPerSecond`);
    }
    return { item: item(entry.item, `items[${i}].item`), headBlock: count(entry.headBlock, `items[${i}].headBlock`), blocksPerSecond };
  });
  return { ...envelope, type: 'progress', state: match(obj.state, STATE, 'state'), items };
}

function event(obj: Record<string, unknown>, envelope: Envelope): EventMessage {
  const kind = obj.event;
  if (typeof kind !== 'string' || !(EVENT_KINDS as readonly string[]).includes(kind)) {
    throw new Malformed(`event ${JSON.stringify(kind)}`);
  }
  const eventKind = kind as EventKind;
  const message: EventMessage = { ...envelope, type: 'event', event: eventKind };
  if (ITEM_EVENTS.has(eventKind)) message.item = item(obj.item, 'item');
  else if (obj.item !== undefined) throw new Malformed(`${eventKind} has no item`);
  if (HASH_EVENTS.has(eventKind)) message.hash = match(obj.hash, HASH, 'hash');
  else if (obj.hash !== undefined) throw new Malformed(`${eventKind} has no hash`);
  if (obj.epoch !== undefined) message.epoch = count(obj.epoch, 'epoch');
  if (obj.reason !== undefined) {
    if (typeof obj.reason !== 'string' || obj.reason.length > MAX_REASON) throw new Malformed('reason');
    message.reason = obj.reason;
  }
  return message;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Malformed(`${what} is not an object`);
  return value as Record<string, unknown>;
}

function name(value: unknown, what: string): string {
  if (typeof value !== 'string' || !isValidName(value)) throw new Malformed(what);
  return value;
}

function item(value: unknown, what: string): string {
  if (typeof value !== 'string' || !parseItemId(value)) throw new Malformed(what);
  return value;
}

function match(value: unknown, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw new Malformed(what);
  return value;
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Malformed(what);
  return value;
}
