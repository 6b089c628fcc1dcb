import { definedKeys, isJsonObject, jsonEqual, memberOf, type JsonValue } from './json.js';

/** One RFC 6902 operation, as the diff emits them. */
export type PatchOperation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue };

const escapeToken = (token: string): string =>
  token.includes('~') || token.includes('/') ? token.replace(/~/g, '~0').replace(/\//g, '~1') : token;

/** A patch, and how many bytes it adds to the state's JSON encoding (negative when it shrinks it). */
export interface MeasuredPatch {
  patch: PatchOperation[];
  sizeChange: number;
}

/** The UTF-8 length of a value's JSON text; throws for a value JSON cannot carry (a BigInt, a function). */
export function encodedSize(value: JsonValue): number {
  const json: string | undefined = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`a ${typeof value} is not a JSON value`);
  return Buffer.byteLength(json);
}

/** The bytes of separators between `count` members or elements. */
const commas = (count: number): number => Math.max(0, count - 1);

/**
 * Computes an RFC 6902 patch from `before` to `after`, proportional to the change:
 * appending, prepending, inserting or removing elements of a long list (also a
 * list that drops its oldest element as it appends), or changing one field of one
 * element, gives a patch of a few operations rather than a rewrite of the array.
 * Subtrees that are the same reference are skipped without being walked.
 */
export function diff(before: JsonValue, after: JsonValue): PatchOperation[] {
  return measuredDiff(before, after).patch;
}

/**
 * {@link diff}, together with the change in encoded size, which costs only the
 * encoding of what was added, removed or replaced: a server can bound its state's
 * size without encoding the whole state on every event.
 */
export function measuredDiff(before: JsonValue, after: JsonValue): MeasuredPatch {
  const patch: PatchOperation[] = [];
  const sizeChange = diffValue(before, after, '', patch);
  return { patch, sizeChange };
}

function diffValue(before: JsonValue, after: JsonValue, path: string, out: PatchOperation[]): number {
  if (before === after) return 0;
  if (Array.isArray(before) && Array.isArray(after)) return diffArray(before, after, path, out);
  if (isJsonObject(before) && isJsonObject(after)) return diffObject(before, after, path, out);
  if (jsonEqual(before, after)) return 0;
  out.push({ op: 'replace', path, value: after });
  return encodedSize(after) - encodedSize(before);
}

function diffObject(
  before: Record<string, JsonValue>,
  after: Record<string, JsonValue>,
  path: string,
  out: PatchOperation[],
): number {
  const beforeKeys = definedKeys(before);
  const afterKeys = definedKeys(after);
  /** A member's bytes: its quoted key, the colon and its value. */
  const memberSize = (key: string, value: JsonValue) => encodedSize(key) + 1 + encodedSize(value);
  let sizeChange = commas(afterKeys.length) - commas(beforeKeys.length);
  for (const key of beforeKeys) {
    if (memberOf(after, key) === undefined) {
      out.push({ op: 'remove', path: `${path}/${escapeToken(key)}` });
      sizeChange -= memberSize(key, before[key]!);
    }
  }
  for (const key of afterKeys) {
    const childPath = `${path}/${escapeToken(key)}`;
    const previous = memberOf(before, key);
    if (previous === undefined) {
      out.push({ op: 'add', path: childPath, value: after[key]! });
      sizeChange += memberSize(key, after[key]!);
    } else {
      sizeChange += diffValue(previous, after[key]!, childPath, out);
    }
  }
  return sizeChange;
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
function diffArray(before: JsonValue[], after: JsonValue[], path: string, out: PatchOperation[]): number {
  let bEnd = before.length;
  let aEnd = after.length;
  while (bEnd > 0 && aEnd > 0 && jsonEqual(before[bEnd - 1], after[aEnd - 1])) {
    bEnd--;
    aEnd--;
  }
  let b = 0;
  let a = 0;
  let sizeChange = commas(after.length) - commas(before.length);
  const remove = () => {
    out.push({ op: 'remove', path: `${path}/${a}` });
    sizeChange -= encodedSize(before[b++]!);
  };
  const add = () => {
    out.push({ op: 'add', path: `${path}/${a}`, value: after[a]! });
    sizeChange += encodedSize(after[a++]!);
  };
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
      for (let k = 0; k < removed; k++) remove();
    } else if (inserted > 0) {
      for (let k = 0; k < inserted; k++) add();
    } else {
      sizeChange += diffValue(before[b]!, after[a]!, `${path}/${a}`, out);
      b++;
      a++;
    }
  }
  while (b < bEnd) remove();
  while (a < aEnd) add();
  return sizeChange;
}
