import { ManifestInputError } from './errors.js';
import { parseNonNegativeInteger, splitLines, stripComment } from './numbers.js';

/**
 * `--expected FILE`: the reference integrity hashes of the state at interval
 * ends, from an earlier trusted run. One `<end-block> <hash>` pair per line,
 * separated by blanks, a tab or a comma (so `start,end`-style spreadsheet
 * exports and `results` dumps both paste in); `#` comments, blank lines and
 * a header `end hash` are accepted. Hashes are 64 hex digits (sha256, what
 * nodeos reports) and are stored lowercase.
 */
export interface ExpectedHash {
  hash: string;
  /** 1-based line, for messages. */
  line: number;
}

const HASH = /^[0-9a-fA-F]{64}$/;
const SEPARATOR = /\s*,\s*|\s+/;

export function parseExpectedHashes(text: string, source: string): Map<number, ExpectedHash> {
  const hashes = new Map<number, ExpectedHash>();
  let seenData = false;
  splitLines(text).forEach((raw, index) => {
    const line = index + 1;
    const fail = (problem: string): never => {
      throw new ManifestInputError(source, problem, line);
    };
    const content = stripComment(raw);
    if (content === '') return;
    const fields = content.split(SEPARATOR);
    if (!seenData && fields.length === 2 && fields[0]!.toLowerCase() === 'end' && fields[1]!.toLowerCase() === 'hash') return;
    seenData = true;
    if (fields.length !== 2) fail(`expected 2 columns (end block, hash), found ${fields.length}; write "<end-block> <hash>" per line`);
    const parsed = parseNonNegativeInteger(fields[0]!, 'end block');
    const end = parsed.ok ? parsed.value : fail(parsed.problem);
    const hash = fields[1]!;
    if (!HASH.test(hash)) fail(`hash ${JSON.stringify(hash)} is not 64 hex digits; give the integrity hash nodeos reported`);
    const previous = hashes.get(end);
    if (previous) fail(`block ${end} already has an expected hash on line ${previous.line}; keep one`);
    hashes.set(end, { hash: hash.toLowerCase(), line });
  });
  return hashes;
}

/** Refuses hashes for blocks no interval ends at: a file meant for another table, most likely. */
export function checkExpectedHashesMatch(
  hashes: ReadonlyMap<number, ExpectedHash>,
  intervalEnds: ReadonlySet<number>,
  source: string,
): void {
  for (const [end, { line }] of hashes) {
    if (!intervalEnds.has(end)) {
      throw new ManifestInputError(
        source,
        `block ${end} is not the end of any interval of this run; check that the file belongs to this spacing table`,
        line,
      );
    }
  }
}
