/** An RFC 6902 operation. */
export type PatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

type Container = Record<string, unknown> | unknown[];

const isContainer = (value: unknown): value is Container => typeof value === 'object' && value !== null;

/** Tokens that name an object's prototype machinery rather than data: a patch must never reach it. */
const UNSAFE_TOKENS = new Set(['__proto__', 'constructor', 'prototype']);

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`);
  const tokens = pointer.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
  const unsafe = tokens.find((token) => UNSAFE_TOKENS.has(token));
  if (unsafe !== undefined) throw new PatchError(`the path token "${unsafe}" is not allowed (in "${pointer}")`);
  return tokens;
}

function arrayIndex(array: unknown[], token: string, allowEnd: boolean): number {
  if (allowEnd && token === '-') return array.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchError(`"${token}" is not an array index`);
  const index = Number(token);
  if (index > array.length || (!allowEnd && index === array.length)) throw new PatchError(`index ${index} is out of bounds`);
  return index;
}

function read(document: unknown, tokens: readonly string[]): unknown {
  let value = document;
  for (const token of tokens) {
    if (Array.isArray(value)) value = value[arrayIndex(value, token, false)];
    else if (isContainer(value) && Object.hasOwn(value, token)) value = (value as Record<string, unknown>)[token];
    else throw new PatchError(`path "/${tokens.join('/')}" does not exist`);
  }
  return value;
}

/**
 * Returns a copy of `document` changed at `tokens` by `change`, which receives the
 * (copied) parent and the last token. Only the containers on the path are copied:
 * every other object keeps its identity, so a renderer can skip what did not change.
 */
function update(document: unknown, tokens: readonly string[], change: (parent: Container, token: string) => void): unknown {
  if (!isContainer(document)) throw new PatchError(`cannot reach "/${tokens.join('/')}" through a ${typeof document}`);
  const copy: Container = Array.isArray(document) ? [...document] : { ...document };
  const [token, ...rest] = tokens;
  if (rest.length === 0) {
    change(copy, token!);
  } else if (Array.isArray(copy)) {
    const index = arrayIndex(copy, token!, false);
    copy[index] = update(copy[index], rest, change);
  } else {
    if (!Object.hasOwn(copy, token!)) throw new PatchError(`path "/${tokens.join('/')}" does not exist`);
    copy[token!] = update(copy[token!], rest, change);
  }
  return copy;
}

function add(document: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  return update(document, tokens, (parent, token) => {
    if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, true), 0, value);
    else parent[token] = value;
  });
}

function remove(document: unknown, tokens: string[]): unknown {
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  return update(document, tokens, (parent, token) => {
    if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, false), 1);
    else if (Object.hasOwn(parent, token)) delete parent[token];
    else throw new PatchError(`path "/${tokens.join('/')}" does not exist`);
  });
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isContainer(a) || !isContainer(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a);
  return aKeys.length === Object.keys(b).length && aKeys.every((key) => Object.hasOwn(b, key) && equal((a as any)[key], (b as any)[key]));
}

function applyOperation(document: unknown, operation: PatchOperation): unknown {
  const tokens = parsePointer(operation.path);
  switch (operation.op) {
    case 'add':
      return add(document, tokens, operation.value);
    case 'remove':
      return remove(document, tokens);
    case 'replace':
      read(document, tokens);
      return tokens.length === 0 ? operation.value : update(document, tokens, (parent, token) => {
        (parent as any)[Array.isArray(parent) ? arrayIndex(parent, token, false) : token] = operation.value;
      });
    case 'move': {
      const from = parsePointer(operation.from);
      if (operation.path.startsWith(`${operation.from}/`)) throw new PatchError('cannot move a value into itself');
      const value = read(document, from);
      return add(remove(document, from), tokens, value);
    }
    case 'copy':
      return add(document, tokens, read(document, parsePointer(operation.from)));
    case 'test':
      if (!equal(read(document, tokens), operation.value)) throw new PatchError(`test failed at "${operation.path}"`);
      return document;
    default:
      throw new PatchError(`unknown operation "${(operation as { op: string }).op}"`);
  }
}

/**
 * Applies an RFC 6902 patch without mutating `document`. Throws a {@link PatchError}
 * (and changes nothing) when an operation does not apply.
 */
export function applyPatch<T>(document: T, patch: readonly PatchOperation[]): T {
  return patch.reduce<unknown>(applyOperation, document) as T;
}
