// The resident-state toolkit as a module built with it runs: compiled by livestate-guest,
// called through Extism. For random sequences of changes in one event, the patch the event
// returns, applied (strictly) to the state before, must give the state the module holds
// after, and both must equal a model of the same changes in JavaScript.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compileGuest, openGuest } from './support/guest-plugin.mjs';
import { applyPatch } from './support/json-patch.mjs';

const source = fileURLToPath(new URL('guests/resident-ops.ts', import.meta.url));

/** Keys and texts that JSON Pointer, JSON strings or JavaScript objects treat specially. */
const oddStrings = ['__proto__', 'constructor', 'a/b', '~1', '~', '', 'say "hi" \\o/', 'émoji 🎉', 'line\nbreak', 'toString'];

const define = (object, key, value) =>
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });

/** What each operation of the test module does, to a plain JSON state. */
const model = {
  push: (state, { text }) => state.items.push({ text, done: false }),
  pushThenChange: (state, { text }) => state.items.push({ text, done: true }),
  edit: (state, { index, text }) => (state.items[index] = { text, done: !state.items[index].done }),
  replaceAt: (state, { index, text }) => (state.items[index] = { text, done: false }),
  removeAt: (state, { index }) => state.items.splice(index, 1),
  removeDone: (state) => (state.items = state.items.filter((item) => !item.done)),
  count: (state) => state.count++,
  feature: (state, { text }) => (state.featured = { text, done: true }),
  theme: (state, { text }) => (state['pre/fs~'].theme = text),
  label: (state, { key, text }) => define(state.labels, key, { text, done: false }),
  editLabel: (state, { key }) => (state.labels[key].done = true),
  unlabel: (state, { key }) => delete state.labels[key],
};

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed) {
  let x = seed;
  return (n) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
}

/** An operation that applies to `state`, chosen at random. */
function randomOperation(state, next) {
  const pick = (list) => list[next(list.length)];
  const length = state.items.length;
  const keys = Object.keys(state.labels);
  const ops = ['push', 'pushThenChange', 'removeDone', 'count', 'feature', 'theme', 'label', 'unlabel'];
  if (length > 0) ops.push('edit', 'edit', 'replaceAt', 'removeAt', 'removeAt');
  if (keys.length > 0) ops.push('editLabel');
  const op = pick(ops);
  return {
    op,
    index: next(Math.max(length, 1)),
    key: op === 'editLabel' ? pick(keys) : pick(oddStrings),
    text: `${pick(oddStrings)} ${next(1000)}`,
  };
}

describe('resident state toolkit', () => {
  let dir;
  let guest;
  const dump = async () => JSON.parse(await guest.call('dump'));
  const apply = async (ops, fail = '') => JSON.parse(await guest.call('apply', JSON.stringify({ ops, fail })));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestate-resident-'));
    await compileGuest(source, join(dir, 'resident-ops.wasm'));
    guest = await openGuest(join(dir, 'resident-ops.wasm'));
  });
  after(async () => {
    await guest?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('init returns the whole initial state', async () => {
    assert.deepEqual(JSON.parse(await guest.call('init', '{}')), { items: [], count: 0, 'pre/fs~': { theme: 'light' }, labels: {}, featured: { text: '', done: false } });
  });

  it('returns patches that turn the state before each event into the state after it', async () => {
    const state = { items: [{ text: 'first', done: true }], count: 3, 'pre/fs~': { theme: 'dark' }, labels: {}, featured: { text: 'f', done: false } };
    for (const key of oddStrings) define(state.labels, key, { text: key, done: false });
    // Loaded as a host might send it: spaced, keys in another order.
    assert.equal(await guest.call('livestate_load', JSON.stringify({ labels: state.labels, ...state }, null, 2)), '');
    assert.deepEqual(await dump(), state);

    const next = random(15);
    for (let event = 0; event < 300; event++) {
      const before = await dump();
      const ops = Array.from({ length: 1 + next(8) }, () => {
        const operation = randomOperation(state, next);
        model[operation.op](state, operation);
        return operation;
      });
      const { patch, events } = await apply(ops);
      const after = await dump();
      const context = `event ${event}: ${JSON.stringify(ops)}\npatch ${JSON.stringify(patch)}`;
      assert.deepEqual(after, state, context);
      assert.deepEqual(applyPatch(before, patch), after, context);
      assert.deepEqual(events, []);
    }
  });

  it('adds the members that the loaded state lacks before changing them', async () => {
    const loaded = { items: [{ text: 'kept', done: false }], unknown: { ignored: true } };
    await guest.call('livestate_load', JSON.stringify(loaded));
    const { unknown, ...known } = loaded;
    assert.deepEqual(await dump(), { ...known, count: 0, 'pre/fs~': { theme: 'light' }, labels: {}, featured: { text: '', done: false } });
    const ops = [
      { op: 'theme', text: 'blue' },
      { op: 'feature', text: 'star' },
      { op: 'label', key: 'a/b', text: 'x' },
      { op: 'count' },
      { op: 'push', text: 'more' },
    ];
    const { patch } = await apply(ops);
    assert.deepEqual(applyPatch(structuredClone(loaded), patch), { ...(await dump()), unknown });
  });

  it('one operation for a value set again right after it was set or added', async () => {
    await guest.call('livestate_load', JSON.stringify({ items: [{ text: 'a', done: false }], count: 0, 'pre/fs~': { theme: 'light' }, labels: {} }));
    const { patch } = await apply([
      { op: 'count' },
      { op: 'count' },
      { op: 'count' },
      { op: 'label', key: 'k', text: 'x' },
      { op: 'editLabel', key: 'k' },
      { op: 'edit', index: 0, text: 'b' },
      { op: 'edit', index: 0, text: 'c' },
    ]);
    assert.deepEqual(patch, [
      { op: 'replace', path: '/count', value: 3 },
      { op: 'add', path: '/labels/k', value: { text: 'x', done: true } },
      { op: 'replace', path: '/items/0', value: { text: 'c', done: false } },
    ]);
  });

  it('an empty patch when nothing changed', async () => {
    assert.deepEqual(await apply([]), { patch: [], events: [] });
  });

  it('fails with the message given to fail, and is whole again once loaded', async () => {
    const state = { items: [{ text: 'a', done: false }], count: 1, 'pre/fs~': { theme: 'light' }, labels: {}, featured: { text: '', done: false } };
    await guest.call('livestate_load', JSON.stringify(state));
    await assert.rejects(apply([{ op: 'removeAt', index: 0 }, { op: 'count' }], 'no such todo'), /no such todo/);
    await guest.call('livestate_load', JSON.stringify(state));
    assert.deepEqual(await dump(), state);
    const { patch } = await apply([{ op: 'count' }]);
    assert.deepEqual(patch, [{ op: 'replace', path: '/count', value: 2 }]);
  });
});
