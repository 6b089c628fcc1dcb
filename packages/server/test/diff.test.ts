import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonPatch from 'fast-json-patch';
import { diff, type JsonObject, type JsonValue } from '@livestate/server';

/** Diffs, checks the patch with an independent RFC 6902 applier, and returns it. */
function checkedDiff(before: JsonValue, after: JsonValue) {
  const patch = diff(before, after);
  const { newDocument } = jsonPatch.applyPatch(structuredClone(before), structuredClone(patch) as any, true, false);
  assert.deepEqual(newDocument, after);
  return patch;
}

const todos = (count: number) => Array.from({ length: count }, (_, id) => ({ id, text: `todo ${id}`, done: false }));

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
