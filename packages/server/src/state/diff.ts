import { definedKeys, isJsonObject, jsonEqual, memberOf, type JsonValue } from './json.js';

/** One RFC 6902 operation, as the diff emits them. */
export type PatchOperation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue };

const escapeToken = (token: string): string =>
  token.includes('~') || token.includes('/') ? token.replace(/~/g, '~0').replace(/\//g, '~1') : token;

/**
 * Computes an RFC 6902 patch from `before` to `after`, proportional to the change:
 * appending, prepending, inserting or removing elements of a long list (also a
 * list that drops its oldest element as it appends), or changing one field of one
 * element, gives a patch of a few operations rather than a rewrite of the array.
 * Subtrees that are the same reference are skipped without being walked.
 */
export function diff(before: JsonValue, after: JsonValue): PatchOperation[] {
  const operations: PatchOperation[] = [];
  diffValue(before, after, '', operations);
  return operations;
}

function diffValue(before: JsonValue, after: JsonValue, path: string, out: PatchOperation[]): void {
  if (before === after) return;
  if (Array.isArray(before) && Array.isArray(after)) {
    diffArray(before, after, path, out);
  } else if (isJsonObject(before) && isJsonObject(after)) {
    diffObject(before, after, path, out);
  } else if (!jsonEqual(before, after)) {
    out.push({ op: 'replace', path, value: after });
  }
}

function diffObject(
  before: Record<string, JsonValue>,
  after: Record<string, JsonValue>,
  path: string,
  out: PatchOperation[],
): void {
  for (const key of definedKeys(before)) {
    if (memberOf(after, key) === undefined) out.push({ op: 'remove', path: `${path}/${escapeToken(key)}` });
  }
  for (const key of definedKeys(after)) {
    const childPath = `${path}/${escapeToken(key)}`;
    const previous = memberOf(before, key);
    if (previous === undefined) out.push({ op: 'add', path: childPath, value: after[key]! });
    else diffValue(previous, after[key]!, childPath, out);
  }
}

/** How far ahead to look for a removed or inserted run before pairing elements in place. */
const LOOKAHEAD = 8;

/**
 * Walks both arrays once, after dropping their common suffix. At any point the
 * array the client holds is `after[0..a)` followed by `before[b..]`, so every
 * operation is addressed at index `a`. Where elements differ, a short look-ahead
 * finds a removed or inserted run (a queue that drops its head and appends, an
 * insertion, a deletion) before falling back to diffing the pair in place.
 */
function diffArray(before: JsonValue[], after: JsonValue[], path: string, out: PatchOperation[]): void {
  let bEnd = before.length;
  let aEnd = after.length;
  while (bEnd > 0 && aEnd > 0 && jsonEqual(before[bEnd - 1], after[aEnd - 1])) {
    bEnd--;
    aEnd--;
  }
  let b = 0;
  let a = 0;
  const runLength = (matches: (k: number) => boolean): number => {
    for (let k = 1; k <= LOOKAHEAD; k++) if (matches(k)) return k;
    return 0;
  };
  while (b < bEnd && a < aEnd) {
    if (jsonEqual(before[b], after[a])) {
      b++;
      a++;
      continue;
    }
    const removed = runLength((k) => b + k < bEnd && jsonEqual(before[b + k], after[a]));
    const inserted = runLength((k) => a + k < aEnd && jsonEqual(before[b], after[a + k]));
    if (removed > 0 && (inserted === 0 || removed <= inserted)) {
      for (let k = 0; k < removed; k++) out.push({ op: 'remove', path: `${path}/${a}` });
      b += removed;
    } else if (inserted > 0) {
      for (let k = 0; k < inserted; k++, a++) out.push({ op: 'add', path: `${path}/${a}`, value: after[a]! });
    } else {
      diffValue(before[b]!, after[a]!, `${path}/${a}`, out);
      b++;
      a++;
    }
  }
  for (; b < bEnd; b++) out.push({ op: 'remove', path: `${path}/${a}` });
  for (; a < aEnd; a++) out.push({ op: 'add', path: `${path}/${a}`, value: after[a]! });
}
