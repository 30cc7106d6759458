import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import { parseNonNegativeInteger } from '../manifest/numbers.js';
import { UserError } from './describe-error.js';

/**
 * Parsers for the option kinds several commands share (durations, log
 * levels, host names, host:port), so a bad value gets the same one-line
 * rule everywhere. Commander prints an InvalidArgumentError as
 * `error: option '--x <v>' argument 'bad' is invalid. <rule>`, and
 * run-cli.ts exits 2 on it, like every other bad input (issue 19).
 */

/**
 * Node's timers hold at most 2^31 - 1 ms (24.8 days); a longer one fires
 * after 1 ms instead, which would turn a period into a busy loop.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A duration in whole milliseconds, `min` to MAX_DURATION_MS. */
export function durationOption(min = 1): (value: string) => number {
  return (value: string) => {
    const parsed = parseNonNegativeInteger(value, 'the value');
    if (!parsed.ok) throw new InvalidArgumentError(`${parsed.problem}; give whole milliseconds.`);
    if (parsed.value < min || parsed.value > MAX_DURATION_MS) {
      throw new InvalidArgumentError(`It must be whole milliseconds from ${min} to ${MAX_DURATION_MS} (24.8 days).`);
    }
    return parsed.value;
  };
}

/** pino's levels, quietest last. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export function logLevelOption(value: string): string {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new InvalidArgumentError(`It must be one of ${LOG_LEVELS.join(', ')}.`);
  return value;
}

/**
 * The level a command logs at: its flag, else env LOG_LEVEL (checked here,
 * or pino would throw "default level:loud must be included in custom levels").
 */
export function resolveLogLevel(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag !== undefined) return flag;
  const fromEnv = env.LOG_LEVEL;
  if (fromEnv === undefined || fromEnv === '') return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(fromEnv)) {
    throw new UserError(`LOG_LEVEL=${JSON.stringify(fromEnv)} is not a log level; set it to one of ${LOG_LEVELS.join(', ')} (or unset it: info)`);
  }
  return fromEnv;
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** An IP address or a DNS name (letters, digits, '-', dot-separated); what `listen()` and nodeos can look up. */
export function isHost(value: string): boolean {
  if (isIP(value) !== 0) return true;
  if (value.length > 253 || /^[\d.]+$/.test(value)) return false; // 999.1.1.1 is a bad address, not a name
  return value.replace(/\.$/, '').split('.').every((label) => HOST_LABEL.test(label));
}

export function hostOption(value: string): string {
  if (!isHost(value)) throw new InvalidArgumentError('It must be an IP address (127.0.0.1, ::1, 0.0.0.0 for every interface) or a host name.');
  return value;
}

/** `host:port` (`[v6]:port` for IPv6), port 1-65535: written into nodeos's config.ini as it is, so nothing else may pass. */
export function hostPortOption(value: string): string {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  const hostOk = match?.[1] !== undefined ? isIP(match[1]) === 6 : host !== undefined && isHost(host);
  if (!match || !hostOk || port < 1 || port > 65535) throw new InvalidArgumentError('It must be host:port (a host name or IP address, [v6]:port for IPv6; port 1-65535).');
  return value;
}
