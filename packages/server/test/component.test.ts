import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { WasmHandler } from '@livestate/server';
import { startServer, withoutEpoch } from './support/clients.js';
import { guestPath } from './support/guests.js';
import { WasmTestServer } from './support/wasm-test-server.js';

/** The TypeScript handler test/guests/components/todo.ts, built into a component by `pnpm build:guests`. */
const COMPONENT = 'todo.component';
const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('WebAssembly Component handlers (JavaScript, livestate-guest-js)', () => {
  const wasm = new WasmTestServer(async (load) => [
    { topic: 'todo:*', handler: await load(guestPath(COMPONENT)), scope: 'topic' },
    { topic: 'runaway:*', handler: await load(guestPath(COMPONENT), { timeoutMs: 500 }), scope: 'topic' },
    // A time limit well beyond what filling the memory takes, so that the cap stops the hog.
    { topic: 'capped:*', handler: await load(guestPath(COMPONENT), { timeoutMs: 30_000, maxMemoryMiB: 32 }), scope: 'topic' },
  ]);
  const { logger, load, joined } = wasm;

  it('loads the component from the folder it was built into, and refuses a folder without one', async () => {
    const fromFolder = await load(join(guestPath(COMPONENT), '..'));
    assert.equal(fromFolder.path, guestPath(COMPONENT));
    assert.ok(fromFolder.events.has('addTodo'));
    const empty = await mkdtemp(join(tmpdir(), 'livestate-no-component-'));
    await copyFile(guestPath('todo'), join(empty, 'todo.wasm'));
    await assert.rejects(load(empty), /is a folder with no component: name the component file/);
  });

  it('refuses a component whose loader was built from another one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livestate-stale-loader-'));
    for (const file of [`${COMPONENT}.wasm`, `${COMPONENT}.core.wasm`]) await copyFile(join(guestPath(COMPONENT), '..', file), join(dir, file));
    const loader = await readFile(join(guestPath(COMPONENT), '..', `${COMPONENT}.js`), 'utf8');
    await writeFile(join(dir, `${COMPONENT}.js`), loader.replace(/component sha256 [0-9a-f]{64}/, `component sha256 ${'0'.repeat(64)}`));
    await assert.rejects(load(join(dir, `${COMPONENT}.wasm`)), /todo\.component\.js was not built from .*todo\.component\.wasm by livestate-guest-js: build it again/);
  });

  it('lists the events the module exports', () => {
    assert.deepEqual([...wasm.handlers[0]!.events].sort(), ['addTodo', 'crash', 'hog', 'keepSecret', 'later', 'notObject', 'probe', 'spin', 'toggleTodo']);
  });

  it('runs init with the join params, then events, with reply events before the patch', async () => {
    const { client, initial, push } = await joined('todo', { owner: 'ann' });
    assert.deepEqual(withoutEpoch(initial), { state: { owner: 'ann', todos: [], nextId: 1 }, version: 0 });
    push('addTodo', { todo: 'Buy milk' });
    const reply = await client.next((frame) => frame[3] === 'todo-added' || frame[3] === 'state:patch');
    assert.equal(reply[3], 'todo-added');
    assert.deepEqual(reply[4], { id: 1 });
    assert.deepEqual((await client.nextEvent('state:patch'))[4], {
      patch: [
        { op: 'add', path: '/todos/0', value: { id: 1, text: 'Buy milk', done: false } },
        { op: 'replace', path: '/nextId', value: 2 },
      ],
      version: 1,
    });
    push('toggleTodo', { id: 1 });
    assert.deepEqual((await client.nextEvent('state:patch'))[4].patch, [{ op: 'replace', path: '/todos/0/done', value: true }]);
  });

  it('round-trips non-ASCII text', async () => {
    const { client, push, refresh } = await joined('todo');
    const text = 'héllo wörld ✓ 日本語 🎉';
    push('addTodo', { todo: text });
    await client.nextEvent('state:patch');
    assert.equal((await refresh()).state.todos[0].text, text);
  });

  it('sends the message init throws as an error, and no state', async () => {
    const client = await wasm.connect(wasm.server.url);
    client.join('todo:refused', { refuse: 'members only' });
    assert.deepEqual((await client.nextEvent('error'))[4], { message: 'members only' });
    assert.equal(client.frames.filter((frame) => frame[3] === 'state:change').length, 0);
  });

  /** Sends an event that must fail, and checks the error, that the state is unchanged and that the topic still works. */
  async function assertFailsCleanly(prefix: string, event: string, payload: object, message: string | RegExp) {
    const topic = await joined(prefix);
    topic.push('addTodo', { todo: 'first' });
    await topic.client.nextEvent('state:patch');
    topic.push(event, payload);
    const [, , , , error] = await topic.client.nextEvent('error');
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.equal(error.event, event);
    const { state, version } = await topic.refresh();
    assert.deepEqual([state.todos.map((todo: { text: string }) => todo.text), version], [['first'], 1], 'the state is unchanged');
    topic.push('addTodo', { todo: 'second' });
    assert.equal((await topic.client.nextEvent('state:patch'))[4].version, 2, 'the next event works');
  }

  it('sends what the handler throws to the client as the error, verbatim', async () => {
    await assertFailsCleanly('todo', 'addTodo', { todo: '   ' }, 'a todo needs some text');
    await assertFailsCleanly('todo', 'crash', {}, 'can\'t access property "field", state.missing is undefined');
  });

  it('answers an event the module does not export with an error', async () => {
    await assertFailsCleanly('todo', 'nonexistent', {}, 'unknown event "nonexistent"');
  });

  it('refuses a state that is not an object, and a handler that returns a promise', async () => {
    await assertFailsCleanly('todo', 'notObject', {}, 'handler for "notObject" returned an array, expected an object');
    await assertFailsCleanly('todo', 'later', {}, 'later returned a promise; handlers in a component must be synchronous');
  });

  it('stops a runaway loop at the time limit; the topic carries on on a fresh instance', async () => {
    await assertFailsCleanly('runaway', 'spin', {}, 'the handler for "spin" timed out: the handler did not finish within 500 ms and was stopped');
  });

  it('stops a memory hog at the memory cap and throws the trapped instance away', async () => {
    await assertFailsCleanly('capped', 'hog', {}, /^the handler for "hog" failed: .*unreachable/);
  });

  it("puts the instance back as it was created before another topic's call: one topic's data never reaches another", async () => {
    const [alice, bob] = [await joined('todo'), await joined('todo')];
    const keep = async (topic: typeof alice, secret: string) => {
      topic.push('keepSecret', { secret });
      const [, , , , { patch }] = await topic.client.nextEvent('state:patch');
      return patch.find((op: { path: string }) => op.path === '/previous')?.value;
    };
    assert.equal(await keep(alice, 'alice-1'), '');
    assert.equal(await keep(alice, 'alice-2'), 'alice-1', 'calls for one state in a row share the instance as it is');
    assert.equal(await keep(bob, 'bob-1'), '', "bob's call does not see alice's secret");
    assert.equal(await keep(alice, 'alice-3'), '', "alice's call does not see bob's, nor her own from before bob's");
  });

  it('gives the handler no clock and no randomness: what the guest README says', async () => {
    const probe = async (handler: WasmHandler, name: string) => {
      const context = { topic: 'probe', socket: { id: '1', params: {}, assigns: {} } };
      const result = await handler.handleEvent('probe', { name }, { todos: [], nextId: 1 }, context);
      return (result as { state: { probed: unknown } }).state.probed;
    };
    const [first, second] = [await load(guestPath(COMPONENT)), await load(guestPath(COMPONENT))];
    assert.deepEqual(await probe(second, 'random'), await probe(first, 'random'), 'every fresh instance draws the same numbers');
    const now = await probe(first, 'now');
    assert.ok(typeof now === 'number' && now < Date.now());
    assert.equal(await probe(second, 'now'), now, 'Date.now() is frozen at the time the component was built');
    await assert.rejects(probe(first, 'performanceNow'), /the handler for "probe" failed: .*unreachable/);
    assert.equal(await probe(first, 'console'), 'logged', 'console.log does nothing');
  });

  it('reloads when the component file changes, keeping current states, and keeps the old module when the new one is incomplete', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livestate-component-reload-'));
    const path = join(dir, `${COMPONENT}.wasm`);
    await copyFile(guestPath('todo'), path);
    const reloading = await load(path, { watch: true });
    const reloadServer = await startServer({ logger, routes: [{ topic: 'live:*', handler: reloading, scope: 'topic' }] });
    try {
      const { client, push, refresh } = await joined('live', {}, { url: reloadServer.url });
      push('addTodo', { todo: 'before reload' });
      await client.nextEvent('state:patch');

      await copyFile(guestPath(COMPONENT), path);
      await logger.waitFor(new RegExp(`kept the previous module: reloading ${escaped(path)} failed: .*its loader .* is missing`));
      for (const file of [`${COMPONENT}.js`, `${COMPONENT}.core.wasm`, `${COMPONENT}.wasm`]) {
        await copyFile(join(guestPath(COMPONENT), '..', file), join(dir, file));
      }
      await logger.waitFor(new RegExp(`reloaded ${escaped(path)}`));

      assert.equal((await refresh()).state.todos[0].text, 'before reload', 'the state is kept');
      push('crash');
      assert.match((await client.nextEvent('error'))[4].message, /state\.missing is undefined/, 'the component handles events now');
      push('addTodo', { todo: 'after reload' });
      await client.nextEvent('state:patch');
      assert.deepEqual((await refresh()).state.todos.map((todo: { text: string }) => todo.text), ['before reload', 'after reload']);
    } finally {
      await reloadServer.close();
    }
  });
});
