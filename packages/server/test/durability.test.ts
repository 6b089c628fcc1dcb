import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, describe, it } from 'node:test';
import { SqliteStorage, type LiveStateServer } from '@livestate/server';
import { CaptureLogger } from './support/capture-logger.js';
import { TestFleet, withoutEpoch, type RawClient } from './support/clients.js';
import { todoHandler } from './support/todo-handler.js';

const directory = await mkdtemp(joinPath(tmpdir(), 'livestate-durability-'));
after(() => rm(directory, { recursive: true, force: true }));
let files = 0;
const newFile = () => joinPath(directory, `${++files}.db`);

const fleet = new TestFleet();
after(() => fleet.close());

const durableServer = (file: string, logger = new CaptureLogger()): Promise<LiveStateServer> =>
  fleet.server({ storage: new SqliteStorage(file), logger, routes: [{ topic: 'todo:*', handler: todoHandler, scope: 'topic' }] });
const client = (server: LiveStateServer) => fleet.client(server);

/** Joins and returns the join_ref and the initial `state:change` payload. */
async function join(raw: RawClient, topic: string, params: object = {}) {
  const joinRef = raw.join(topic, params);
  const [, , , , change] = await raw.nextEvent('state:change', topic);
  return { joinRef, change };
}

describe('acknowledgements (protocol.md §4)', () => {
  it('replies ok with the version after the reply events and the patch of a committed event', async () => {
    const server = await durableServer(newFile());
    const raw = await client(server);
    const { joinRef } = await join(raw, 'todo:acks');
    const ref = raw.ref();
    raw.send([joinRef, ref, 'todo:acks', 'lvs_evt:addTodo', { todo: 'milk' }]);
    const frames = await raw.untilReply(ref);
    assert.deepEqual(
      frames.map(([, r, , event, payload]) => [event, r, event === 'state:patch' ? payload.version : payload]),
      [
        ['todo-added', null, { id: 1 }],
        ['state:patch', null, 1],
        ['phx_reply', ref, { status: 'ok', response: { version: 1 } }],
      ],
    );
  });

  it('replies error with the reason after the error push of a failing event', async () => {
    const server = await durableServer(newFile());
    const raw = await client(server);
    const { joinRef } = await join(raw, 'todo:nacks');
    const ref = raw.ref();
    raw.send([joinRef, ref, 'todo:nacks', 'lvs_evt:addTodo', { todo: ' ' }]);
    assert.deepEqual(
      (await raw.untilReply(ref)).map(([, r, , event, payload]) => [event, r, payload]),
      [
        ['error', null, { message: 'a todo needs some text', event: 'addTodo' }],
        ['phx_reply', ref, { status: 'error', response: { reason: 'a todo needs some text' } }],
      ],
    );
  });
});

describe('durable topic states', () => {
  it('comes back after a restart on the same file: same state, same epoch, versions continue', async () => {
    const file = newFile();
    const first = await durableServer(file);
    const raw = await client(first);
    const { joinRef, change } = await join(raw, 'todo:restart');
    for (const todo of ['milk', 'eggs']) {
      raw.send([joinRef, raw.ref(), 'todo:restart', 'lvs_evt:addTodo', { todo }]);
      await raw.nextEvent('phx_reply');
    }
    await first.close();

    const second = await durableServer(file);
    const again = await client(second);
    const { joinRef: secondJoin, change: restored } = await join(again, 'todo:restart');
    assert.equal(restored.epoch, change.epoch, 'the history continues');
    assert.deepEqual(withoutEpoch(restored), {
      state: { todos: [{ id: 1, text: 'milk', done: false }, { id: 2, text: 'eggs', done: false }], nextId: 3 },
      version: 2,
    });
    again.send([secondJoin, again.ref(), 'todo:restart', 'lvs_evt:addTodo', { todo: 'tea' }]);
    assert.equal((await again.nextEvent('state:patch'))[4].version, 3);
  });

  it('refuses an update that does not follow the stored state: error to the sender, nothing changed, logged', async () => {
    // Two servers on one file both hold version 0; the second to write is behind (fencing).
    const file = newFile();
    const logger = new CaptureLogger();
    const [a, b] = [await durableServer(file), await durableServer(file, logger)];
    const [rawA, rawB] = [await client(a), await client(b)];
    const joinA = (await join(rawA, 'todo:fenced')).joinRef;
    const joinB = (await join(rawB, 'todo:fenced')).joinRef;
    rawA.send([joinA, rawA.ref(), 'todo:fenced', 'lvs_evt:addTodo', { todo: 'first' }]);
    assert.deepEqual((await rawA.nextEvent('phx_reply'))[4], { status: 'ok', response: { version: 1 } });

    const ref = rawB.ref();
    rawB.send([joinB, ref, 'todo:fenced', 'lvs_evt:addTodo', { todo: 'second' }]);
    const [error, reply] = await rawB.untilReply(ref);
    assert.match(error![4].message, /^the update could not be stored: storage conflict on "todo:fenced": the update follows epoch \S+ version 0 but the stored state is at epoch \S+ version 1$/);
    assert.deepEqual(reply![4], { status: 'error', response: { reason: error![4].message } });
    assert.match(await logger.waitFor(/not applied/), /^error "todo:fenced": event "addTodo" not applied: the update could not be stored/);
    rawB.send([joinB, rawB.ref(), 'todo:fenced', 'lvs_refresh', {}]);
    assert.deepEqual(withoutEpoch((await rawB.nextEvent('state:change'))[4]), { state: { todos: [], nextId: 1 }, version: 0 }, 'nothing changed');
  });
});
