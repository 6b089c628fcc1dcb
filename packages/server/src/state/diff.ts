import { definedKeys, isJsonObject, jsonEqual, type JsonValue } from './json.js';

/** One RFC 6902 operation, as the diff emits them. */
export type PatchOperation =
  | { op: 'add'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'replace'; path: string; value: JsonValue };

const escapeToken = (token: string): string =>
  token.includes('~') || token.includes('/') ? token.replace(/~/g, '~0').replace(/\//g, '~1') : token;

/**
 * Computes an RFC 6902 patch from `before` to `after`, proportional to the change:
 * arrays are matched by their common prefix and suffix, so appending, prepending,
 * inserting or removing one element of a long list, or changing one field of one
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
    if (after[key] === undefined) out.push({ op: 'remove', path: `${path}/${escapeToken(key)}` });
  }
  for (const key of definedKeys(after)) {
    const childPath = `${path}/${escapeToken(key)}`;
    if (before[key] === undefined) out.push({ op: 'add', path: childPath, value: after[key]! });
    else diffValue(before[key]!, after[key]!, childPath, out);
  }
}

function diffArray(before: JsonValue[], after: JsonValue[], path: string, out: PatchOperation[]): void {
  const shorter = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < shorter && jsonEqual(before[prefix], after[prefix])) prefix++;
  let suffix = 0;
  while (
    suffix < shorter - prefix &&
    jsonEqual(before[before.length - 1 - suffix], after[after.length - 1 - suffix])
  ) {
    suffix++;
  }
  const removed = before.length - prefix - suffix;
  const added = after.length - prefix - suffix;
  const paired = Math.min(removed, added);
  for (let i = prefix; i < prefix + paired; i++) diffValue(before[i]!, after[i]!, `${path}/${i}`, out);
  // Removing at one index repeatedly keeps every later index valid while we go.
  for (let i = paired; i < removed; i++) out.push({ op: 'remove', path: `${path}/${prefix + paired}` });
  for (let i = prefix + paired; i < prefix + added; i++) {
    out.push({ op: 'add', path: `${path}/${i}`, value: after[i]! });
  }
}
