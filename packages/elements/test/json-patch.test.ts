import { expect } from 'chai';
import { applyPatch, PatchError, type PatchOperation } from '../src/index.js';

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
});
