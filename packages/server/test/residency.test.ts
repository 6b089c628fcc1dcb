import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import { defineHandler, MemoryStorage, SqliteStorage, type LiveStateServer, type LiveStateServerOptions, type Storage } from '@livestate/server';
import { TestFleet, withoutEpoch, type RawClient } from './support/clients.js';
import { todoHandler } from './support/todo-handler.js';

const directory = await mkdtemp(joinPath(tmpdir(), 'livestate-residency-'));
let files = 0;
const newFile = () => joinPath(directory, `${++files}.db`);
const fleet = new TestFleet();
after(async () => {
  await fleet.close();
  await rm(directory, { recursive: true, force: true });
});

const server = (options: Partial<LiveStateServerOptions> = {}): Promise<LiveStateServer> =>
  fleet.server({
    routes: [
      { topic: 'todo:*', handler: todoHandler, scope: 'topic' },
      { topic: 'mine:*', handler: todoHandler },
    ],
    ...options,
  });
const client = (live: LiveStateServer) => fleet.client(live);

/** Joins and resolves with the join_ref and the first state message (state:change, or the reply when a resume sends nothing). */
async function join(raw: RawClient, topic: string, params: object = {}) {
  const joinRef = raw.join(topic, params);
  const [, , , , reply] = await raw.nextReply(joinRef);
  assert.equal(reply.status, 'ok', JSON.stringify(reply));
  return joinRef;
}

async function push(raw: RawClient, joinRef: string, topic: string, event: string, payload: object) {
  const ref = raw.ref();
  raw.send([joinRef, ref, topic, `lvs_evt:${event}`, payload]);
  const [, , , , reply] = await raw.nextReply(ref);
  return reply;
}

async function leave(raw: RawClient, joinRef: string, topic: string): Promise<void> {
  const ref = raw.ref();
  raw.send([joinRef, ref, topic, 'phx_leave', {}]);
  await raw.nextReply(ref);
}

describe('connection-scoped states: the grace period', () => {
  it('gives a reconnecting client its state back when it presents the epoch, patches only', async () => {
    const live = await server();
    const first = await client(live);
    const joinRef = first.join('mine:list');
    const [, , , , { epoch }] = await first.nextEvent('state:change');
    assert.equal((await push(first, joinRef, 'mine:list', 'addTodo', { todo: 'kept' })).response.version, 1);
    first.close();

    const stranger = await client(live);
    stranger.join('mine:list');
    assert.deepEqual(withoutEpoch((await stranger.nextEvent('state:change'))[4]).state, { todos: [], nextId: 1 }, 'another connection has its own');

    const again = await client(live);
    const rejoin = await join(again, 'mine:list', { lvs_resume: { epoch, version: 1 } });
    const ref = again.ref();
    again.send([rejoin, ref, 'mine:list', 'lvs_refresh', {}]);
    const [, , , , change] = await again.nextEvent('state:change');
    assert.deepEqual(change, { state: { todos: [{ id: 1, text: 'kept', done: false }], nextId: 2 }, version: 1, epoch });
    assert.deepEqual((await push(again, rejoin, 'mine:list', 'toggleTodo', { id: 1 })).response, { version: 2 });
  });

  it('drops the state after the grace period: the epoch then gets a fresh one', async () => {
    const live = await server({ connectionGraceMs: 0 });
    const first = await client(live);
    const joinRef = first.join('mine:gone');
    const [, , , , { epoch }] = await first.nextEvent('state:change');
    await push(first, joinRef, 'mine:gone', 'addTodo', { todo: 'forgotten' });
    first.close();
    // Until the server has seen the close and the grace period (0 ms) has run out, a resume still
    // finds the state and hands it back to the grace period when it leaves: try until it is gone.
    for (;;) {
      const again = await client(live);
      const rejoin = again.join('mine:gone', { lvs_resume: { epoch, version: 1 } });
      await again.nextReply(rejoin);
      const ref = again.ref();
      again.send([rejoin, ref, 'mine:gone', 'lvs_refresh', {}]);
      const [, , , , change] = await again.nextEvent('state:change');
      again.close();
      if (change.epoch === epoch) continue;
      assert.deepEqual(change.state, { todos: [], nextId: 1 });
      break;
    }
  });
});

describe('topic-scoped states: unloading', () => {
  it('unloads the least recently used idle state when full, and loads it from storage on the next join', async () => {
    // A second server writes the topic while the first has unloaded it: the first must read it back.
    const file = newFile();
    const live = await server({ storage: new SqliteStorage(file), maxStates: 2 });
    const other = await server({ storage: new SqliteStorage(file) });
    const raw = await client(live);
    for (const topic of ['todo:a', 'todo:b', 'todo:c']) await leave(raw, await join(raw, topic), topic);

    const writer = await client(other);
    await push(writer, await join(writer, 'todo:a'), 'todo:a', 'addTodo', { todo: 'written elsewhere' });

    raw.join('todo:a');
    const [, , , , change] = await raw.nextEvent('state:change', 'todo:a');
    assert.deepEqual(withoutEpoch(change), { state: { todos: [{ id: 1, text: 'written elsewhere', done: false }], nextId: 2 }, version: 1 });
  });

  it('refuses a join with a precise error when every state in memory has members; the socket keeps working', async () => {
    const live = await server({ maxStates: 2 });
    const raw = await client(live);
    await join(raw, 'todo:x');
    const y = await join(raw, 'todo:y');
    const refused = raw.join('todo:z');
    assert.deepEqual((await raw.nextReply(refused))[4], {
      status: 'error',
      response: { reason: 'too many states in memory: at most 2, all of them in use' },
    });
    await leave(raw, y, 'todo:y');
    await join(raw, 'todo:z');
  });

  /** Joins and leaves 10,000 topics of 2 KiB states in turn, and checks the heap did not grow with the last 8,000. */
  async function assertFlatHeap(storage: Storage): Promise<void> {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const live = await server({
      storage,
      unloadAfterMs: 0,
      // A string of its own per state (base64 of random bytes: 2,048 characters), as a client's data would be.
      routes: [{ topic: 'big:*', scope: 'topic', handler: defineHandler({ init: () => ({ padding: randomBytes(1536).toString('base64') }), events: {} }) }],
    });
    const socket = new WebSocket(`${live.url}/websocket?vsn=2.0.0`);
    await new Promise((resolve) => socket.once('open', resolve));
    // A client that keeps nothing: each topic is joined, its state awaited, then left.
    const waiting = new Map<string, () => void>();
    socket.on('message', (data) => {
      const [, ref, topic, event] = JSON.parse(data.toString());
      if (event === 'state:change') waiting.get(`${topic} state`)?.();
      if (event === 'phx_reply') waiting.get(`${topic} ${ref}`)?.();
    });
    const expect = (key: string) => new Promise<void>((resolve) => waiting.set(key, () => (waiting.delete(key), resolve())));
    let ref = 0;
    const cycle = async (i: number) => {
      const topic = `big:${i}`;
      const joinRef = String(++ref);
      const state = expect(`${topic} state`);
      socket.send(JSON.stringify([joinRef, joinRef, topic, 'phx_join', {}]));
      await state;
      const leaveRef = String(++ref);
      const left = expect(`${topic} ${leaveRef}`);
      socket.send(JSON.stringify([joinRef, leaveRef, topic, 'phx_leave', {}]));
      await left;
    };
    const run = async (from: number, to: number) => {
      for (let i = from; i < to; i += 50) await Promise.all(Array.from({ length: Math.min(50, to - i) }, (_, k) => cycle(i + k)));
    };
    const settledHeap = async () => {
      // Unloads run on timers and through each store's queue: let them, then collect.
      await new Promise((resolve) => setTimeout(resolve, 50));
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    await run(0, 2_000);
    const before = await settledHeap();
    await run(2_000, 10_000);
    const afterAll = await settledHeap();
    socket.close();
    const grownMiB = (afterAll - before) / 2 ** 20;
    // 8,000 more states of 2 KiB each would be over 16 MiB if they stayed.
    assert.ok(grownMiB < 4, `the heap grew by ${grownMiB.toFixed(1)} MiB over 8,000 topics`);
  }

  it('keeps memory flat over 10,000 topics joined and left in turn', { timeout: 240_000 }, () => assertFlatHeap(new SqliteStorage(newFile())));

  it('keeps memory flat with a MemoryStorage too: it keeps maxTopics topics', { timeout: 240_000 }, () => assertFlatHeap(new MemoryStorage({ maxTopics: 1_000 })));

  it('with a MemoryStorage, forgets the topics unloaded longest ago past maxTopics, never one with members', async () => {
    const live = await server({ storage: new MemoryStorage({ maxTopics: 3 }), maxStates: 2 });
    const raw = await client(live);
    const held = await join(raw, 'todo:held');
    await push(raw, held, 'todo:held', 'addTodo', { todo: 'held' });
    /** Joins `topic` (which unloads the other idle state: maxStates is 2), adds a todo and leaves; returns the todos it found. */
    const visit = async (topic: string): Promise<string[]> => {
      const joinRef = raw.join(topic);
      const [, , , , { state }] = await raw.nextEvent('state:change', topic);
      await push(raw, joinRef, topic, 'addTodo', { todo: topic });
      await leave(raw, joinRef, topic);
      return state.todos.map((todo: { text: string }) => todo.text);
    };
    assert.deepEqual(await visit('todo:a'), []);
    assert.deepEqual(await visit('todo:b'), []);
    assert.deepEqual(await visit('todo:a'), ['todo:a'], 'unloaded, and kept: three topics are stored');
    assert.deepEqual(await visit('todo:c'), [], 'a fourth topic: b, unloaded longest ago, is forgotten');
    assert.deepEqual(await visit('todo:b'), [], 'b starts afresh');
    assert.deepEqual((await push(raw, held, 'todo:held', 'addTodo', { todo: 'still here' })).response, { version: 2 }, 'the topic with a member was never forgotten');
  });
});

describe('limits', () => {
  it('refuses a join past maxChannelsPerSocket with a precise error; the socket keeps working', async () => {
    const live = await server({ maxChannelsPerSocket: 2 });
    const raw = await client(live);
    const a = await join(raw, 'todo:one');
    await join(raw, 'todo:two');
    const refused = raw.join('todo:three');
    assert.deepEqual((await raw.nextReply(refused))[4], {
      status: 'error',
      response: { reason: 'too many channels on this socket: at most 2' },
    });
    await join(raw, 'todo:two'); // joining a joined topic again is not one more
    await leave(raw, a, 'todo:one');
    await join(raw, 'todo:three');
  });

  it('fails an event past maxPendingEvents of its channel at once with busy; the rest, and other members, carry on', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const gated = defineHandler<{ count: number }>({
      init: () => ({ count: 0 }),
      events: {
        add: async (_payload, state) => {
          await gate;
          return { count: state.count + 1 };
        },
      },
    });
    const live = await server({ maxPendingEvents: 2, routes: [{ topic: 'gate:*', handler: gated, scope: 'topic' }] });
    const flooder = await client(live);
    const bystander = await client(live);
    const flooderJoin = await join(flooder, 'gate:one');
    const bystanderJoin = await join(bystander, 'gate:one');
    const send = (raw: RawClient, joinRef: string) => {
      const ref = raw.ref();
      raw.send([joinRef, ref, 'gate:one', 'lvs_evt:add', {}]);
      return ref;
    };
    const accepted = [send(flooder, flooderJoin), send(flooder, flooderJoin)];
    const refused = send(flooder, flooderJoin);
    assert.deepEqual((await flooder.nextReply(refused))[4], {
      status: 'error',
      response: { reason: 'busy: 2 events of this channel are still waiting or running (maxPendingEvents)' },
    });
    const bystanderRef = send(bystander, bystanderJoin);
    open();
    const versions = [];
    for (const ref of accepted) versions.push((await flooder.nextReply(ref))[4].response.version);
    versions.push((await bystander.nextReply(bystanderRef))[4].response.version);
    assert.deepEqual(versions, [1, 2, 3]);
    assert.equal((await push(flooder, flooderJoin, 'gate:one', 'add', {})).response.version, 4);
  });

  it('answers only the latest of two joins of a topic that share a join_ref, so no channel is left behind', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slowlyAuthorized = { ...todoHandler, authorize: async () => (await gate, true) };
    const live = await server({ maxStates: 1, unloadAfterMs: 0, routes: [{ topic: 'slow:*', handler: slowlyAuthorized, scope: 'topic' }] });
    const raw = await client(live);
    raw.send(['1', '1', 'slow:one', 'phx_join', {}]);
    raw.send(['1', '2', 'slow:one', 'phx_join', {}]);
    open();
    assert.equal((await raw.nextReply('2'))[4].status, 'ok');
    await raw.nextEvent('state:change');
    raw.close();
    // Had the first join left a channel behind, slow:one would keep a member and fill maxStates.
    const next = await client(live);
    assert.equal((await next.nextReply(next.join('slow:two')))[4].status, 'ok');
  });

  it('refuses options that make no sense', async () => {
    await assert.rejects(server({ maxStates: 0 }), /invalid maxStates: expected a positive integer, got number 0/);
    await assert.rejects(server({ connectionGraceMs: -1 }), /invalid connectionGraceMs: expected a non-negative integer, got number -1/);
    await assert.rejects(server({ maxTopicBytes: 0 }), /invalid maxTopicBytes: expected a positive integer, got number 0/);
    await assert.rejects(server({ maxTopicBytes: 4 }), /invalid routes\[0\]\.topic: 5 bytes, longer than maxTopicBytes \(4\), so no client could join it/);
  });
});
