import { readFile } from 'node:fs/promises';

/**
 * A process named so that pid reuse cannot fool us: the pid plus its start
 * time, field 22 of /proc/<pid>/stat (clock ticks after boot). Pids are
 * recycled; a pid and a start time together name one process for the life
 * of the machine. Linux only, like `setpriv` (preflight.checkSetpriv).
 */
export interface ProcessIdentity {
  pid: number;
  startTime: number;
}

/** @returns the start time, or undefined when no such process exists (or it is a zombie, which is already dead) */
export async function processStartTime(pid: number): Promise<number | undefined> {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  return parseStat(text);
}

/** True while the very process `identity` names runs (not a later one that got its pid). */
export async function isRunning(identity: ProcessIdentity): Promise<boolean> {
  return (await processStartTime(identity.pid)) === identity.startTime;
}

/**
 * Field 2 (the command name) is in parentheses and may itself hold spaces
 * and parentheses, so the fields are counted from the last `)`: the one
 * after it is field 3 (the state), field 22 is 19 further on.
 */
export function parseStat(text: string): number | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // A zombie (Z) or dying (X) process has exited; only its parent has yet to reap it.
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  const startTime = Number(fields[19]);
  return Number.isSafeInteger(startTime) ? startTime : undefined;
}

/**
 * A JSON record naming a process on a host (the data directory lock, a
 * nodeos pid file): its identity and hostname checked, plus the string
 * fields the record kind needs. Undefined when it is anything else.
 */
export function parseProcessRecord<T extends ProcessIdentity & { hostname: string }>(raw: string, stringFields: readonly (keyof T & string)[]): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ok = Number.isSafeInteger(v.pid) && Number.isSafeInteger(v.startTime) && typeof v.hostname === 'string'
    && stringFields.every((field) => typeof v[field] === 'string');
  return ok ? (v as unknown as T) : undefined;
}
