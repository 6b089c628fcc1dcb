import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import jsonPatch from 'fast-json-patch';
import { defineHandler, MemoryStorage, type LiveStateServer, type Payload } from '@livestate/server';
import { TestFleet, type Frame } from './support/clients.js';
import { todoHandler } from './support/todo-handler.js';

const fleet = new TestFleet();
after(() => fleet.close());

const seenParams: Payload[] = [];
const recordingHandler = defineHandler({
  authorize: (_topic, params) => {
    seenParams.push(params);
    return true;
  },
  init: (_topic, params) => ({ keys: Object.keys(params) }),
  events: {},
});

const server = (patchWindow?: number): Promise<LiveStateServer> =>
  fleet.server({
    storage: new MemoryStorage({ patchWindow }),
    routes: [
      { topic: 'todo:*', handler: todoHandler, scope: 'topic' },
      { topic: 'params:*', handler: recordingHandler, scope: 'topic' },
    ],
  });
const client = (live: LiveStateServer) => fleet.client(live);

/** A client that adds `count` todos to `topic`, each acknowledged. */
async function addTodos(live: LiveStateServer, topic: string, count: number): Promise<void> {
  const writer = await client(live);
  const joinRef = writer.join(topic);
  await writer.nextEvent('state:change');
  for (let i = 0; i < count; i++) {
    const ref = writer.ref();
    writer.send([joinRef, ref, topic, 'lvs_evt:addTodo', { todo: `todo ${i}` }]);
    await writer.nextReply(ref);
  }
  writer.close();
}

/**
 * Joins with `lvs_resume`, then toggles a todo and returns every frame up to that event's
 * acknowledgement: the join's reply, what the resume sent, the toggle's patch and ack.
 */
async function resume(live: LiveStateServer, topic: string, position: object): Promise<Frame[]> {
  const raw = await client(live);
  const joinRef = raw.join(topic, { lvs_resume: position });
  const joined = await raw.untilReply(joinRef);
  const ref = raw.ref();
  raw.send([joinRef, ref, topic, 'lvs_evt:toggleTodo', { id: 1 }]);
  return [...joined, ...(await raw.untilReply(ref))];
}

const events = (frames: Frame[]) => frames.map(([, , , event, payload]) => (event === 'state:patch' ? `${event} ${payload.version}` : event));

describe('resume on join (protocol.md §4)', () => {
  it('sends exactly the N missed patches, in order, and no state:change', async () => {
    const live = await server();
    await addTodos(live, 'todo:missed', 2);
    const reader = await client(live);
    reader.join('todo:missed');
    const [, , , , seen] = await reader.nextEvent('state:change');
    reader.close();
    await addTodos(live, 'todo:missed', 3);

    const frames = await resume(live, 'todo:missed', { epoch: seen.epoch, version: seen.version });
    assert.deepEqual(events(frames), ['phx_reply', 'state:patch 3', 'state:patch 4', 'state:patch 5', 'state:patch 6', 'phx_reply']);
    const state = frames.slice(1, 4).reduce((state, [, , , , { patch }]) => jsonPatch.applyPatch(state, patch, true, false).newDocument, seen.state);
    assert.deepEqual(state.todos.map((todo: { text: string }) => todo.text), ['todo 0', 'todo 1', 'todo 0', 'todo 1', 'todo 2']);
  });

  it('sends nothing but the join reply to a client that is current', async () => {
    const live = await server();
    await addTodos(live, 'todo:current', 1);
    const reader = await client(live);
    reader.join('todo:current');
    const [, , , , { epoch, version }] = await reader.nextEvent('state:change');
    assert.deepEqual(events(await resume(live, 'todo:current', { epoch, version })), ['phx_reply', 'state:patch 2', 'phx_reply']);
  });

  it('sends state:change to a client whose version is older than the patch window', async () => {
    const live = await server(4);
    const reader = await client(live);
    reader.join('todo:window');
    const [, , , , seen] = await reader.nextEvent('state:change');
    await addTodos(live, 'todo:window', 5);
    const frames = await resume(live, 'todo:window', { epoch: seen.epoch, version: seen.version });
    assert.deepEqual(events(frames), ['phx_reply', 'state:change', 'state:patch 6', 'phx_reply']);
    assert.equal(frames[1]![4].version, 5);
    assert.equal(frames[1]![4].epoch, seen.epoch);
  });

  it('sends state:change with the new epoch to a client whose epoch is stale', async () => {
    const first = await server();
    await addTodos(first, 'todo:stale', 2);
    const reader = await client(first);
    reader.join('todo:stale');
    const [, , , , seen] = await reader.nextEvent('state:change');
    // Another storage (a replaced data file) has another history of the same topic at the same version.
    const second = await server();
    await addTodos(second, 'todo:stale', 2);
    const frames = await resume(second, 'todo:stale', { epoch: seen.epoch, version: seen.version });
    assert.deepEqual(events(frames), ['phx_reply', 'state:change', 'state:patch 3', 'phx_reply']);
    assert.notEqual(frames[1]![4].epoch, seen.epoch);
  });

  it('keeps lvs_resume from authorize and init, well-formed or not', async () => {
    const live = await server();
    for (const [topic, position] of [['params:a', { epoch: 'e', version: 1 }], ['params:b', 'nonsense']] as const) {
      const raw = await client(live);
      raw.join(topic, { owner: 'ann', lvs_resume: position });
      const [, , , , change] = await raw.nextEvent('state:change');
      assert.deepEqual(change.state, { keys: ['owner'] }, 'a fresh state for an unknown epoch or a malformed position');
    }
    assert.deepEqual(seenParams, [{ owner: 'ann' }, { owner: 'ann' }]);
  });
});
