import { encodedSize, type PatchOperation } from './diff.js';
import { isJsonObject, memberOf, type JsonObject, type JsonValue } from './json.js';

/** A patch applied to a state: the result, how many bytes it added to the JSON text, and the way back. */
export interface AppliedPatch {
  readonly document: JsonValue;
  /** The change in the UTF-8 length of the document's JSON text (negative when it shrank). */
  readonly sizeChange: number;
  /** Puts every container the patch changed in place back as it was, in reverse order. */
  undo(): void;
}

type Container = JsonValue[] | JsonObject;

const unescapeToken = (token: string): string => token.replace(/~1/g, '/').replace(/~0/g, '~');
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;
const commaIf = (condition: boolean): number => (condition ? 1 : 0);
/** A member's bytes besides its value: its quoted key and the colon. */
const keySize = (key: string): number => encodedSize(key) + 1;

/**
 * Applies RFC 6902 `add`, `remove` and `replace` operations to a document, changing in place
 * the containers that are not frozen and copying those that are (with everything above them):
 * a state the server owns alone changes at the cost of the patch, a frozen one is left as it
 * was. Throws, with everything put back, on an operation that does not apply, naming it.
 */
export function applyPatch(document: JsonValue, patch: readonly PatchOperation[]): AppliedPatch {
  const undoLog: Array<() => void> = [];
  const copies = new Set<Container>();
  const undo = () => {
    for (let i = undoLog.length - 1; i >= 0; i--) undoLog[i]!();
  };
  let root = document;
  let sizeChange = 0;

  /** `container`, or a copy of it when it is frozen, put in its parent's place. */
  const writable = (container: Container, place: (copy: Container) => void): Container => {
    if (copies.has(container) || !Object.isFrozen(container)) return container;
    const copy = Array.isArray(container) ? container.slice() : { ...container };
    copies.add(copy);
    place(copy);
    return copy;
  };

  try {
    for (const operation of patch) {
      if (operation.path === '') {
        if (operation.op === 'remove') throw new Error('a patch cannot remove the whole document');
        sizeChange += encodedSize(operation.value) - encodedSize(root);
        const previous = root;
        root = operation.value;
        undoLog.push(() => (root = previous));
        continue;
      }
      if (!operation.path.startsWith('/')) throw new Error(`patch path "${operation.path}" is not a JSON Pointer`);
      const tokens = operation.path.slice(1).split('/').map(unescapeToken);
      const last = tokens.pop()!;
      if (typeof root !== 'object' || root === null) throw new Error(`patch path ${operation.path} does not lead to an object or array`);
      let parent = writable(root, (copy) => (root = copy));
      for (const token of tokens) {
        const value = child(parent, token, operation.path);
        const holder = parent;
        parent = writable(value, (copy) => setMember(holder, token, copy, undoLog));
      }
      sizeChange += Array.isArray(parent)
        ? applyToArray(parent, last, operation, copies.has(parent) ? undefined : undoLog)
        : applyToObject(parent, last, operation, copies.has(parent) ? undefined : undoLog);
    }
  } catch (error) {
    undo();
    throw error;
  }
  return { document: root, sizeChange, undo };
}

/** {@link applyPatch} for a document no one else holds, such as one just parsed: its result alone. */
export const applyPatchInPlace = (document: JsonValue, patch: readonly PatchOperation[]): JsonValue => applyPatch(document, patch).document;

function child(container: Container, token: string, path: string): Container {
  const value = Array.isArray(container) ? (ARRAY_INDEX.test(token) ? container[Number(token)] : undefined) : memberOf(container, token);
  if (value === undefined) throw new Error(`patch path ${path}: "${token}" is not there`);
  if (typeof value !== 'object' || value === null) throw new Error(`patch path ${path} does not lead to an object or array`);
  return value;
}

/** Sets a member of an array or object in place, the way back on `undoLog`. */
function setMember(container: Container, token: string, value: JsonValue, undoLog: Array<() => void>): void {
  if (Array.isArray(container)) {
    const index = Number(token);
    const previous = container[index]!;
    container[index] = value;
    undoLog.push(() => (container[index] = previous));
  } else {
    const previous = container[token]!;
    define(container, token, value);
    undoLog.push(() => define(container, token, previous));
  }
}

// defineProperty, so that a key such as __proto__ is an own property like any other.
const define = (object: JsonObject, key: string, value: JsonValue): void => {
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
};

function applyToArray(array: JsonValue[], token: string, operation: PatchOperation, undoLog: Array<() => void> | undefined): number {
  const adding = operation.op === 'add';
  const index = adding && token === '-' ? array.length : ARRAY_INDEX.test(token) ? Number(token) : -1;
  if (index < 0 || index > (adding ? array.length : array.length - 1)) throw new Error(`patch path ${operation.path}: index out of range`);
  if (operation.op === 'add') {
    array.splice(index, 0, operation.value);
    undoLog?.push(() => array.splice(index, 1));
    return encodedSize(operation.value) + commaIf(array.length > 1);
  }
  const previous = array[index]!;
  if (operation.op === 'remove') {
    array.splice(index, 1);
    undoLog?.push(() => array.splice(index, 0, previous));
    return -encodedSize(previous) - commaIf(array.length > 0);
  }
  array[index] = operation.value;
  undoLog?.push(() => (array[index] = previous));
  return encodedSize(operation.value) - encodedSize(previous);
}

function applyToObject(object: JsonObject, key: string, operation: PatchOperation, undoLog: Array<() => void> | undefined): number {
  const previous = memberOf(object, key);
  if (operation.op !== 'add' && previous === undefined) throw new Error(`patch path ${operation.path}: "${key}" is not there`);
  if (operation.op === 'remove') {
    delete object[key];
    undoLog?.push(() => define(object, key, previous!));
    return -keySize(key) - encodedSize(previous!) - commaIf(hasMembers(object));
  }
  define(object, key, operation.value);
  if (previous === undefined) {
    undoLog?.push(() => delete object[key]);
    return keySize(key) + encodedSize(operation.value) + commaIf(hasMembers(object, key));
  }
  undoLog?.push(() => define(object, key, previous));
  return encodedSize(operation.value) - encodedSize(previous);
}

/** Whether an object has an own member other than `except`; stops at the first, where listing its keys would not. */
function hasMembers(object: JsonObject, except?: string): boolean {
  for (const key in object) if (key !== except && Object.hasOwn(object, key)) return true;
  return false;
}

/** The operations of a patch a guest returned, checked for their shape (not yet for whether they apply). */
export function patchOperations(value: unknown): PatchOperation[] {
  if (!Array.isArray(value)) throw new Error('the patch is not an array');
  return value.map((operation: unknown, index) => {
    if (!isJsonObject(operation)) throw new Error(`patch operation ${index} is not an object`);
    const { op, path } = operation;
    if (op !== 'add' && op !== 'remove' && op !== 'replace') {
      throw new Error(`patch operation ${index} has op ${JSON.stringify(op)}: only "add", "remove" and "replace" are allowed`);
    }
    if (typeof path !== 'string') throw new Error(`patch operation ${index} has no string "path"`);
    if (op === 'remove') return { op, path };
    const value = memberOf(operation, 'value');
    if (value === undefined) throw new Error(`patch operation ${index} (${op} ${path}) has no "value"`);
    return { op, path, value };
  });
}
