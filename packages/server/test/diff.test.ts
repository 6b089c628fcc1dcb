import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonPatch from 'fast-json-patch';
import { applyPatch, diff, measuredDiff, type JsonObject, type JsonValue, type PatchOperation } from '@livestate/server';

/**
 * fast-json-patch assigns members, so a `__proto__` member would set the prototype
 * instead of adding a key. The check renames that one key, in the documents and in
 * the patch paths alike, so the independent applier sees an ordinary member.
 */
const PROTO_STAND_IN = '\u0000proto';
const renameProto = (value: JsonValue): JsonValue =>
  Array.isArray(value)
    ? value.map(renameProto)
    : typeof value === 'object' && value !== null
      ? Object.fromEntries(Object.entries(value).map(([key, child]) => [key === '__proto__' ? PROTO_STAND_IN : key, renameProto(child)]))
      : value;
const renameProtoInPath = (path: string): string =>
  path.split('/').map((token) => (token === '__proto__' ? PROTO_STAND_IN : token)).join('/');

const byteLength = (value: JsonValue) => Buffer.byteLength(JSON.stringify(value));

/** Diffs, checks the patch with an independent RFC 6902 applier and the size change by encoding, and returns the patch. */
function checkedDiff(before: JsonValue, after: JsonValue) {
  const { patch, sizeChange } = measuredDiff(before, after);
  assert.equal(sizeChange, byteLength(after) - byteLength(before), 'the size change is exact');
  const renamed = patch.map((op) => ('value' in op ? { ...op, path: renameProtoInPath(op.path), value: renameProto(op.value) } : { ...op, path: renameProtoInPath(op.path) }));
  const { newDocument } = jsonPatch.applyPatch(renameProto(before), renamed as any, true, false);
  assert.deepEqual(newDocument, renameProto(after));
  return patch;
}

/** Keys that name members every object inherits, and `__proto__`, which JSON.parse makes an own key. */
const ODD_KEYS = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

const todos = (count: number) => Array.from({ length: count }, (_, id) => ({ id, text: `todo ${id}`, done: false }));

/**
 * 2,000 random edits, each of one member somewhere in the state (added, removed or replaced),
 * over objects with odd keys and values of every JSON type: pairs of states, before and after.
 */
function* randomEdits(): Generator<[JsonValue, JsonValue]> {
  let seed = 11;
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const keys = [...ODD_KEYS, 'a', 'b'];
  const randomValue = (depth: number): JsonValue => {
    switch (random(depth > 2 ? 4 : 6)) {
      case 0: return null;
      case 1: return random(2) === 0;
      case 2: return random(3) === 0 ? -0.5 : random(100);
      case 3: return ['', 'x', 'constructor', 'é€😀'][random(4)]!;
      case 4: return Array.from({ length: random(4) }, () => randomValue(depth + 1));
      default: return Object.fromEntries(Array.from({ length: random(4) }, () => [keys[random(keys.length)]!, randomValue(depth + 1)]));
    }
  };
  /** A copy of `value` with one member, somewhere inside, added, removed or replaced. */
  const edit = (value: JsonValue, depth: number): JsonValue => {
    if (Array.isArray(value) && value.length > 0 && random(2) === 0) {
      const at = random(value.length);
      return value.map((item, i) => (i === at ? edit(item, depth + 1) : item));
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return randomValue(depth);
    const key = keys[random(keys.length)]!;
    const copy: JsonObject = Object.fromEntries(Object.entries(value));
    if (Object.hasOwn(copy, key) && random(3) === 0) {
      return Object.fromEntries(Object.entries(copy).filter(([k]) => k !== key));
    }
    return Object.fromEntries([...Object.entries(copy).filter(([k]) => k !== key), [key, Object.hasOwn(copy, key) ? edit(copy[key]!, depth + 1) : randomValue(depth + 1)]]);
  };
  let state: JsonValue = {};
  for (let step = 0; step < 2000; step++) {
    const next = edit(state, 0);
    yield [state, next];
    state = typeof next === 'object' && next !== null && !Array.isArray(next) ? next : {};
  }
}

describe('diff', () => {
  const list = { todos: todos(10_000) };
  const cases: Array<[string, (items: JsonObject[]) => JsonObject[], number]> = [
    ['appending', (items) => [...items, { id: -1, text: 'new', done: false }], 1],
    ['prepending', (items) => [{ id: -1, text: 'new', done: false }, ...items], 1],
    ['inserting in the middle', (items) => [...items.slice(0, 5000), { id: -1, text: 'x', done: false }, ...items.slice(5000)], 1],
    ['removing the first', (items) => items.slice(1), 1],
    ['removing one in the middle', (items) => items.filter((item) => item.id !== 4321), 1],
    ['changing one field', (items) => items.map((item) => (item.id === 777 ? { ...item, done: true } : item)), 1],
    ['dropping the oldest and appending (a queue)', (items) => [...items.slice(1), { id: -1, text: 'new', done: false }], 2],
    ['dropping three and prepending two', (items) => [{ id: -1, text: 'a', done: false }, { id: -2, text: 'b', done: false }, ...items.slice(3)], 5],
  ];
  for (const [name, change, expected] of cases) {
    it(`keeps ${name} one element of a 10,000-item array to ${expected} operation(s)`, () => {
      const after = { todos: change(list.todos) };
      assert.equal(checkedDiff(list, after).length, expected);
    });
  }

  it('works when nothing is shared by reference (a state parsed from JSON)', () => {
    const parsed = JSON.parse(JSON.stringify(list));
    parsed.todos[9_999].done = true;
    assert.deepEqual(checkedDiff(list, parsed), [{ op: 'replace', path: '/todos/9999/done', value: true }]);
  });

  it('escapes "~" and "/" in keys and handles removed, added and retyped members', () => {
    const patch = checkedDiff(
      { 'a/b': 1, 'c~d': { x: 1 }, gone: true, list: [1, 2], n: 1 },
      { 'a/b': 2, 'c~d': { x: 1, y: [1] }, list: { 0: 1 }, n: '1', fresh: null },
    );
    assert.deepEqual(patch.map((op) => `${op.op} ${op.path}`).sort(), [
      'add /c~0d/y',
      'add /fresh',
      'remove /gone',
      'replace /a~1b',
      'replace /list',
      'replace /n',
    ]);
  });

  it('is empty for equal states and treats undefined members as absent', () => {
    assert.deepEqual(diff({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), []);
    assert.deepEqual(diff({ a: 1 }, { a: 1, b: undefined as any }), []);
  });

  it('treats inherited member names as absent keys, both ways', () => {
    const plain = { apple: 1 };
    const odd: JsonObject = JSON.parse('{"apple":1,"constructor":2,"toString":3,"__proto__":{"x":4},"hasOwnProperty":null,"valueOf":[5]}');
    assert.deepEqual(checkedDiff(plain, odd).map((op) => `${op.op} ${op.path}`), ODD_KEYS.map((key) => `add /${key}`));
    assert.deepEqual(checkedDiff(odd, plain).map((op) => `${op.op} ${op.path}`), ODD_KEYS.map((key) => `remove /${key}`));
    assert.deepEqual(checkedDiff(JSON.parse('{"__proto__":{}}'), { y: {} }).map((op) => `${op.op} ${op.path}`), ['remove /__proto__', 'add /y']);
  });

  it('keeps "__proto__" an own member through JSON text, the diff and the patch', () => {
    const before: JsonObject = JSON.parse('{"__proto__":{"a":1}}');
    const after: JsonObject = JSON.parse('{"__proto__":{"a":2}}');
    const patch = JSON.parse(JSON.stringify(checkedDiff(before, after)));
    assert.deepEqual(patch, [{ op: 'replace', path: '/__proto__/a', value: 2 }]);
    assert.equal(Object.getPrototypeOf(after), Object.prototype);
  });

  it('matches random edits of objects with odd keys and values of every JSON type', () => {
    for (const [state, next] of randomEdits()) {
      checkedDiff(state, next);
      const parsed = JSON.parse(JSON.stringify(next));
      assert.deepEqual(checkedDiff(next, parsed), [], 'a state and its JSON round trip are equal');
    }
  });

  it('matches a random sequence of list edits with a correct patch', () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    let state: JsonObject = { items: todos(50) };
    for (let step = 0; step < 300; step++) {
      const items = [...(state.items as JsonObject[])];
      const at = random(items.length + 1);
      const kind = random(4);
      if (kind === 0) items.splice(at, 0, { id: 1000 + step, text: 'added', done: false });
      else if (kind === 1) items.splice(at, 1 + random(3));
      else if (kind === 2 && items[at]) items[at] = { ...items[at]!, text: `edit ${step}` };
      else if (step % 5 === 0) items.reverse();
      else items.push(...items.splice(0, 1 + random(4)));
      const next = { items };
      checkedDiff(state, next);
      state = next;
    }
  });
});

describe('applyPatch', () => {
  const parsed = (value: JsonValue): JsonValue => JSON.parse(JSON.stringify(value));
  const deepFreeze = (value: JsonValue): JsonValue => {
    if (typeof value === 'object' && value !== null) Object.values(value).forEach(deepFreeze);
    return Object.freeze(value) as JsonValue;
  };

  it('applies the diff of random edits, in place or around frozen containers, with the exact size change', () => {
    for (const [state, next] of randomEdits()) {
      const patch = diff(state, next);
      const expectedSize = byteLength(next) - byteLength(state);
      const frozen = deepFreeze(parsed(state));
      const copied = applyPatch(frozen, patch);
      assert.deepEqual(copied.document, next);
      assert.equal(copied.sizeChange, expectedSize);
      assert.deepEqual(frozen, state, 'a frozen document is left as it was');

      const owned = parsed(state);
      const changed = applyPatch(owned, patch);
      assert.deepEqual(changed.document, next);
      assert.equal(changed.sizeChange, expectedSize);
      changed.undo();
      assert.deepEqual(owned, state, 'undo puts back what was changed in place');
    }
  });

  it('changes a long list in place, copying only what is frozen on the way', () => {
    const items = todos(10_000);
    const state = Object.freeze({ items, count: 1 });
    const { document } = applyPatch(state, [
      { op: 'add', path: '/items/-', value: { id: 10_000, text: 'new', done: false } },
      { op: 'remove', path: '/items/0' },
      { op: 'replace', path: '/count', value: 2 },
    ]);
    const result = document as { items: unknown[]; count: number };
    assert.notEqual(result, state, 'the frozen root is copied');
    assert.equal(result.items, items, 'the list, not frozen, is changed in place');
    assert.equal(result.items.length, 10_000);
    assert.equal(result.count, 2);
  });

  const refused: Array<[string, JsonValue, RegExp]> = [
    ['a missing member', [{ op: 'replace', path: '/missing', value: 1 }], /"missing" is not there/],
    ['a path through a number', [{ op: 'add', path: '/count/x', value: 1 }], /does not lead to an object or array/],
    ['an index past the end', [{ op: 'add', path: '/items/5', value: 1 }], /index out of range/],
    ['an index written as a number would not be', [{ op: 'remove', path: '/items/01' }], /index out of range/],
    ['a path that is not a pointer', [{ op: 'remove', path: 'items' }], /is not a JSON Pointer/],
    ['removing the document', [{ op: 'remove', path: '' }], /cannot remove the whole document/],
  ];
  for (const [what, patch, message] of refused) {
    it(`refuses ${what}, leaving the document as it was after earlier operations`, () => {
      const state = { items: [1, 2], count: 0 };
      const operations = [{ op: 'add', path: '/items/-', value: 3 }, ...(patch as object[])] as PatchOperation[];
      assert.throws(() => applyPatch(state, operations), message);
      assert.deepEqual(state, { items: [1, 2], count: 0 });
    });
  }
});
