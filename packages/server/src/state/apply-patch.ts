import type { PatchOperation } from './diff.js';
import type { JsonValue } from './json.js';

const unescapeToken = (token: string): string => token.replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * Applies the diff's operations (add, remove, replace) to a document it owns, in place, and
 * returns the result: what storage does to replay its patch log onto a freshly parsed snapshot.
 * Throws on a path that does not lead anywhere, as the patch would then not be the diff's.
 */
export function applyPatchInPlace(document: JsonValue, patch: readonly PatchOperation[]): JsonValue {
  let root = document;
  for (const operation of patch) {
    if (operation.path === '') {
      if (operation.op === 'remove') throw new Error('a patch cannot remove the whole document');
      root = operation.value;
      continue;
    }
    const tokens = operation.path.slice(1).split('/').map(unescapeToken);
    const last = tokens.pop()!;
    let parent: JsonValue = root;
    for (const token of tokens) parent = child(parent, token, operation.path);
    if (Array.isArray(parent)) applyToArray(parent, last, operation);
    else if (typeof parent === 'object' && parent !== null) applyToObject(parent, last, operation);
    else throw new Error(`patch path ${operation.path} does not lead to an object or array`);
  }
  return root;
}

function child(container: JsonValue, token: string, path: string): JsonValue {
  if (typeof container !== 'object' || container === null) throw new Error(`patch path ${path} does not lead to an object or array`);
  const value = Array.isArray(container) ? container[Number(token)] : Object.hasOwn(container, token) ? container[token] : undefined;
  if (value === undefined) throw new Error(`patch path ${path}: "${token}" is not there`);
  return value;
}

function applyToArray(array: JsonValue[], token: string, operation: PatchOperation): void {
  const index = token === '-' ? array.length : Number(token);
  const limit = operation.op === 'add' ? array.length : array.length - 1;
  if (!Number.isInteger(index) || index < 0 || index > limit) throw new Error(`patch path ${operation.path}: index out of range`);
  if (operation.op === 'add') array.splice(index, 0, operation.value);
  else if (operation.op === 'remove') array.splice(index, 1);
  else array[index] = operation.value;
}

function applyToObject(object: Record<string, JsonValue>, key: string, operation: PatchOperation): void {
  if (operation.op !== 'add' && !Object.hasOwn(object, key)) throw new Error(`patch path ${operation.path}: "${key}" is not there`);
  if (operation.op === 'remove') delete object[key];
  // defineProperty, so that a key such as __proto__ is an own property like any other.
  else Object.defineProperty(object, key, { value: operation.value, writable: true, enumerable: true, configurable: true });
}
