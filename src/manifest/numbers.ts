/**
 * Exact integer parsing for block numbers, spans and counts. Plain decimal
 * digits only: no sign, no exponent, no fraction, no `_`. Anything beyond
 * 2^53 - 1 is refused instead of being rounded by a double.
 */

const DIGITS = /^\d+$/;
const SIGNED_DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

export type IntegerParse = { ok: true; value: number } | { ok: false; problem: string };

/**
 * Parses a non-negative integer. `what` names the value in the problem
 * text (e.g. `start`, `--count`).
 */
export function parseNonNegativeInteger(text: string, what: string): IntegerParse {
  if (text === '') return { ok: false, problem: `${what} is empty` };
  if (!DIGITS.test(text)) {
    if (SIGNED_DECIMAL.test(text)) {
      if (text.startsWith('-') && Number(text) !== 0) {
        return { ok: false, problem: `${what} ${JSON.stringify(text)} is negative; it must be a whole number >= 0` };
      }
      if (/^[+-]\d+$/.test(text)) return { ok: false, problem: `${what} ${JSON.stringify(text)} has a sign; write whole numbers in plain digits` };
      return { ok: false, problem: `${what} ${JSON.stringify(text)} is not an integer; write whole numbers in plain digits` };
    }
    return { ok: false, problem: `${what} ${JSON.stringify(text)} is not a number; write whole numbers in plain digits` };
  }
  // Compare as BigInt: Number() would silently round 9007199254740993 to ...992.
  if (BigInt(text) > BigInt(Number.MAX_SAFE_INTEGER)) {
    return { ok: false, problem: `${what} ${text} is beyond 2^53 - 1 (${Number.MAX_SAFE_INTEGER}) and cannot be represented exactly` };
  }
  return { ok: true, value: Number(text) };
}

/** Like parseNonNegativeInteger, but throws `makeError(problem)`. */
export function requireNonNegativeInteger(text: string, what: string, makeError: (problem: string) => Error): number {
  const parsed = parseNonNegativeInteger(text, what);
  if (!parsed.ok) throw makeError(parsed.problem);
  return parsed.value;
}

/** Splits a text file into lines, accepting LF and CRLF endings and a UTF-8 byte order mark. */
export function splitLines(text: string): string[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  return body.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
}

/** The content of a line without a `#` comment and surrounding blanks; '' for blank and comment-only lines. */
export function stripComment(line: string): string {
  const hash = line.indexOf('#');
  return (hash === -1 ? line : line.slice(0, hash)).trim();
}
