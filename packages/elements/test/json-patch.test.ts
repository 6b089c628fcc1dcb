import { expect } from 'chai';
import { applyPatch, PatchError, readPath, type PatchOperation } from '../src/index.js';

describe('applyPatch', () => {
  const document = () => ({ a: { b: [1, 2, 3], c: { d: 'x' } }, e: { untouched: true }, 'k/~': 1 });

  it('applies every RFC 6902 operation', () => {
    const patch: PatchOperation[] = [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'remove', path: '/a/b/0' },
      { op: 'replace', path: '/a/c/d', value: 'y' },
      { op: 'move', from: '/a/c/d', path: '/moved' },
      { op: 'copy', from: '/a/b', path: '/copied' },
      { op: 'test', path: '/copied/0', value: 9 },
      { op: 'replace', path: '/k~1~0', value: 2 },
    ];
    expect(applyPatch(document(), patch)).to.deep.equal({
      a: { b: [9, 2, 3, 4], c: {} },
      e: { untouched: true },
      'k/~': 2,
      moved: 'y',
      copied: [9, 2, 3, 4],
    });
  });

  it('copies only the path it changes and never mutates its input', () => {
    const before = document();
    const frozen = JSON.stringify(before);
    const after = applyPatch(before, [{ op: 'replace', path: '/a/b/2', value: 30 }]);
    expect(JSON.stringify(before)).to.equal(frozen);
    expect(after).not.to.equal(before);
    expect(after.a.b).not.to.equal(before.a.b);
    expect(after.a.c).to.equal(before.a.c);
    expect(after.e).to.equal(before.e);
  });

  it('throws a PatchError, and changes nothing, when an operation does not apply', () => {
    const before = document();
    const failing: PatchOperation[][] = [
      [{ op: 'remove', path: '/nope' }],
      [{ op: 'replace', path: '/a/b/7', value: 0 }],
      [{ op: 'add', path: '/a/missing/x', value: 0 }],
      [{ op: 'add', path: '/a/b/x', value: 0 }],
      [{ op: 'test', path: '/a/c/d', value: 'not x' }],
      [{ op: 'move', from: '/a', path: '/a/inside' }],
      [{ op: 'add', path: 'no-slash', value: 0 }],
      [{ op: 'add', path: '/ok', value: 1 }, { op: 'remove', path: '/nope' }],
    ];
    for (const patch of failing) {
      expect(() => applyPatch(before, patch), JSON.stringify(patch)).to.throw(PatchError);
    }
    expect(before).to.deep.equal(document());
  });

  it('refuses __proto__, constructor and prototype path tokens, so a patch cannot reach a prototype', () => {
    const state = { user: { name: 'ann' } };
    const hostile: PatchOperation[][] = [
      [{ op: 'add', path: '/__proto__', value: { isAdmin: true } }],
      [{ op: 'add', path: '/user/__proto__', value: { isAdmin: true } }],
      [{ op: 'add', path: '/__proto__/isAdmin', value: true }],
      [{ op: 'replace', path: '/constructor', value: 1 }],
      [{ op: 'add', path: '/constructor/prototype/isAdmin', value: true }],
      [{ op: 'add', path: '/prototype', value: 1 }],
      [{ op: 'copy', from: '/__proto__', path: '/copied' }],
      [{ op: 'move', from: '/user', path: '/__proto__' }],
    ];
    for (const patch of hostile) {
      expect(() => applyPatch(state, patch), JSON.stringify(patch)).to.throw(PatchError, /not allowed/);
    }
    expect(Object.getPrototypeOf(state)).to.equal(Object.prototype);
    expect(({} as Record<string, unknown>).isAdmin).to.equal(undefined);
    expect((state as Record<string, unknown>).isAdmin).to.equal(undefined);
  });

  it('sees only own properties: inherited members are absent', () => {
    const state = { list: [1] };
    const absent: PatchOperation[][] = [
      [{ op: 'remove', path: '/toString' }],
      [{ op: 'replace', path: '/hasOwnProperty', value: 1 }],
      [{ op: 'add', path: '/valueOf/x', value: 1 }],
      [{ op: 'test', path: '/toString', value: {} }],
      [{ op: 'copy', from: '/list/push', path: '/x' }],
    ];
    for (const patch of absent) {
      expect(() => applyPatch(state, patch), JSON.stringify(patch)).to.throw(PatchError);
    }
    expect(applyPatch(state, [{ op: 'add', path: '/toString', value: 'own' }])).to.deep.equal({ list: [1], toString: 'own' });
  });
});

describe('readPath', () => {
  it('reads own properties only, so inherited members read as undefined', () => {
    const state = { todos: [{ text: 'a' }], own: { constructor: 'kept' } };
    expect(readPath(state, 'todos.0.text')).to.equal('a');
    expect(readPath(state, '/own/constructor')).to.equal('kept');
    for (const path of ['constructor', 'toString', '__proto__', '/__proto__/constructor', 'todos.0.hasOwnProperty', 'todos.map', 'own.prototype']) {
      expect(readPath(state, path), path).to.equal(undefined);
    }
  });
});
