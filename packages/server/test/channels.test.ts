import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import jsonPatch from 'fast-json-patch';
import type { Socket } from 'phoenix';
import { defineHandler, type LiveStateServer } from '@livestate/server';
import { joinChannel, nextPush, phoenixSocket, RawClient, startServer, withoutEpoch } from './support/clients.js';
import { todoHandler } from './support/todo-handler.js';

describe('LiveState channels with the official phoenix client', () => {
  let server: LiveStateServer;
  const sockets: Socket[] = [];
  /** Called when the server reads a join of a `rejoin:*` topic (its authorize runs). */
  let onRejoinAuthorized: () => void = () => undefined;
  const connect = (options?: Record<string, unknown>) => {
    const socket = phoenixSocket(server.url, options);
    sockets.push(socket);
    return socket;
  };

  before(async () => {
    server = await startServer({
      routes: [
        { topic: 'todo:*', handler: todoHandler },
        { topic: 'shared:*', handler: todoHandler, scope: 'topic' },
        { topic: 'rejoin:*', handler: { ...todoHandler, authorize: () => (onRejoinAuthorized(), true) }, scope: 'topic' },
        { topic: 'wrap:*', handler: todoHandler, maxVersion: 2 },
        {
          topic: 'private:*',
          handler: { ...todoHandler, authorize: (_topic, params) => (params.token === 'secret' ? true : 'bad token') },
        },
        { topic: 'closed:*', handler: { ...todoHandler, authorize: () => false } },
        {
          topic: 'crashing:*',
          handler: {
            ...todoHandler,
            authorize: async () => {
              throw new Error('token service down');
            },
          },
        },
        {
          topic: 'broken:init',
          handler: defineHandler({
            init: () => {
              throw new Error('database unavailable');
            },
            events: {},
          }),
        },
      ],
    });
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await server.close();
  });

  it('joins with an ok reply, then pushes state:change at version 0 built from the join params', async () => {
    const channel = connect().channel('todo:1', { owner: 'ann' });
    const change = nextPush(channel, 'state:change');
    assert.deepEqual(await joinChannel(channel), {});
    assert.deepEqual(withoutEpoch(await change), { state: { todos: [], nextId: 1, owner: 'ann' }, version: 0 });
  });

  it('applies an event and pushes its reply events before exactly one patch', async () => {
    const channel = connect().channel('todo:2');
    const initial = nextPush(channel, 'state:change');
    await joinChannel(channel);
    let { state } = await initial;
    const order: string[] = [];
    channel.on('todo-added', (detail) => {
      order.push(`todo-added ${JSON.stringify(detail)}`);
    });
    const patched = new Promise<any>((resolve) =>
      channel.on('state:patch', (payload) => {
        order.push('state:patch');
        resolve(payload);
      }),
    );
    channel.push('lvs_evt:addTodo', { todo: 'Buy milk' });
    const { patch, version } = await patched;
    assert.equal(version, 1);
    assert.deepEqual(order, ['todo-added {"id":1}', 'state:patch']);
    state = jsonPatch.applyPatch(state, patch, true, false).newDocument;
    assert.deepEqual(state.todos, [{ id: 1, text: 'Buy milk', done: false }]);
    assert.deepEqual(patch, [
      { op: 'add', path: '/todos/0', value: { id: 1, text: 'Buy milk', done: false } },
      { op: 'replace', path: '/nextId', value: 2 },
    ]);
  });

  it('answers lvs_refresh with the whole state at the current version', async () => {
    const channel = connect().channel('todo:3');
    await joinChannel(channel);
    const patched = nextPush(channel, 'state:patch');
    channel.push('lvs_evt:addTodo', { todo: 'one' });
    await patched;
    const refreshed = nextPush(channel, 'state:change');
    channel.push('lvs_refresh', {});
    const { state, version } = await refreshed;
    assert.equal(version, 1);
    assert.deepEqual(state.todos, [{ id: 1, text: 'one', done: false }]);
  });

  it('encodes the state once per version: for init, and for every join and refresh that sends it', async () => {
    const marker = 'encoded-once-marker';
    const stringify = JSON.stringify;
    let encodings = 0;
    JSON.stringify = ((...args: Parameters<typeof stringify>) => {
      const text = stringify(...args);
      // The client's join frame carries the marker too; it is not the server's encoding.
      if (text?.includes(marker) && !text.includes('"phx_join"')) encodings++;
      return text;
    }) as typeof stringify;
    try {
      const first = connect().channel('shared:encoded', { owner: marker });
      const initial = nextPush(first, 'state:change');
      await joinChannel(first);
      await initial;
      assert.equal(encodings, 1, "init's result is encoded once, for its size check and the first state:change alike");
      for (let i = 0; i < 3; i++) {
        const channel = connect().channel('shared:encoded');
        const change = nextPush(channel, 'state:change');
        await joinChannel(channel);
        assert.equal((await change).state.owner, marker);
        const refreshed = nextPush(channel, 'state:change');
        channel.push('lvs_refresh', {});
        assert.equal((await refreshed).version, 0);
      }
      assert.equal(encodings, 1, 'joins and refreshes reuse that encoding');
    } finally {
      JSON.stringify = stringify;
    }
  });

  it('wraps versions to 0 after maxVersion', async () => {
    const channel = connect().channel('wrap:1');
    await joinChannel(channel);
    const versions: number[] = [];
    const done = new Promise<void>((resolve) =>
      channel.on('state:patch', ({ version }) => {
        versions.push(version);
        if (versions.length === 4) resolve();
      }),
    );
    for (let i = 0; i < 4; i++) channel.push('lvs_evt:addTodo', { todo: `t${i}` });
    await done;
    assert.deepEqual(versions, [1, 2, 0, 1]);
  });

  it('admits a join that authorize accepts and refuses others with the reason', async () => {
    const socket = connect();
    await joinChannel(socket.channel('private:1', { token: 'secret' }));
    await assert.rejects(joinChannel(socket.channel('private:2', { token: 'nope' })), { reason: { reason: 'bad token' } });
    await assert.rejects(joinChannel(socket.channel('closed:1')), { reason: { reason: 'unauthorized' } });
    await assert.rejects(joinChannel(socket.channel('crashing:1')), { reason: { reason: 'authorization failed: internal error in handler' } });
    await joinChannel(socket.channel('private:3', { token: 'secret' }));
  });

  it('refuses topics no route matches with "unmatched topic"', async () => {
    await assert.rejects(joinChannel(connect().channel('nowhere:1')), { reason: { reason: 'unmatched topic' } });
  });

  it('pushes an error, and no state, when init fails; the channel stays joined', async () => {
    const channel = connect().channel('broken:init');
    const error = nextPush(channel, 'error');
    let changed = false;
    channel.on('state:change', () => {
      changed = true;
    });
    await joinChannel(channel);
    assert.deepEqual(await error, { message: 'internal error in handler' });
    const eventError = nextPush(channel, 'error');
    channel.push('lvs_evt:addTodo', { todo: 'x' });
    assert.match((await eventError).message, /no state/);
    assert.equal(changed, false);
    assert.equal(channel.state, 'joined');
  });

  it('pushes an error for a failing event and leaves the state unchanged', async () => {
    const channel = connect().channel('todo:4');
    await joinChannel(channel);
    const error = nextPush(channel, 'error');
    channel.push('lvs_evt:addTodo', { todo: '   ' });
    assert.deepEqual(await error, { message: 'a todo needs some text', event: 'addTodo' });
    const refreshed = nextPush(channel, 'state:change');
    channel.push('lvs_refresh', {});
    assert.deepEqual(withoutEpoch(await refreshed), { state: { todos: [], nextId: 1 }, version: 0 });
  });

  it('answers heartbeats', async () => {
    const client = await RawClient.connect(server.url);
    const ref = client.ref();
    client.send([null, ref, 'phoenix', 'heartbeat', {}]);
    assert.deepEqual(await client.nextReply(ref), [null, ref, 'phoenix', 'phx_reply', { status: 'ok', response: {} }]);
    client.close();
  });

  it('leaves a channel: ok reply, then phx_close with the join ref; later events get "unmatched topic"', async () => {
    const client = await RawClient.connect(server.url);
    const joinRef = client.join('todo:5');
    await client.nextEvent('state:change');
    const leaveRef = client.ref();
    client.send([joinRef, leaveRef, 'todo:5', 'phx_leave', {}]);
    assert.deepEqual(await client.nextReply(leaveRef), [joinRef, leaveRef, 'todo:5', 'phx_reply', { status: 'ok', response: {} }]);
    assert.deepEqual(await client.nextEvent('phx_close'), [joinRef, joinRef, 'todo:5', 'phx_close', {}]);
    const eventRef = client.ref();
    client.send([joinRef, eventRef, 'todo:5', 'lvs_evt:addTodo', { todo: 'late' }]);
    const [, , , , reply] = await client.nextReply(eventRef);
    assert.deepEqual(reply, { status: 'error', response: { reason: 'unmatched topic' } });
    client.close();
  });

  it('replaces a joined topic on a second join: phx_close for the old join_ref, a fresh state for the new', async () => {
    const client = await RawClient.connect(server.url);
    const first = client.join('todo:6');
    await client.nextEvent('state:change');
    client.send([first, client.ref(), 'todo:6', 'lvs_evt:addTodo', { todo: 'old' }]);
    await client.nextEvent('state:patch');
    const second = client.join('todo:6');
    assert.deepEqual(await client.nextEvent('phx_close'), [first, first, 'todo:6', 'phx_close', {}]);
    const [joinRef, , , , change] = await client.nextEvent('state:change');
    assert.equal(joinRef, second);
    assert.deepEqual(withoutEpoch(change), { state: { todos: [], nextId: 1 }, version: 0 });
    client.send([second, client.ref(), 'todo:6', 'lvs_evt:addTodo', { todo: 'new' }]);
    const [patchJoinRef, patchRef, , , { version }] = await client.nextEvent('state:patch');
    assert.deepEqual([patchJoinRef, patchRef, version], [null, null, 1], 'a broadcast, at the version of the new state');
    client.close();
  });

  describe('connection scope', () => {
    it('gives every join of the same topic a state of its own', async () => {
      const a = connect().channel('todo:same');
      const b = connect().channel('todo:same');
      await joinChannel(a);
      await joinChannel(b);
      const patched = nextPush(a, 'state:patch');
      a.push('lvs_evt:addTodo', { todo: 'only mine' });
      await patched;
      const refreshed = nextPush(b, 'state:change');
      b.push('lvs_refresh', {});
      assert.deepEqual((await refreshed).state.todos, []);
    });
  });

  describe('topic scope', () => {
    it('shares one state: every member gets the same patch, reply events go to the sender only', async () => {
      const a = connect().channel('shared:1');
      const b = connect().channel('shared:1');
      await joinChannel(a);
      await joinChannel(b);
      let bGotReply = false;
      b.on('todo-added', () => {
        bGotReply = true;
      });
      const aReply = nextPush(a, 'todo-added');
      const [aPatch, bPatch] = [nextPush(a, 'state:patch'), nextPush(b, 'state:patch')];
      a.push('lvs_evt:addTodo', { todo: 'together' });
      assert.deepEqual(await aReply, { id: 1 });
      assert.deepEqual(await aPatch, await bPatch);
      assert.equal((await bPatch).version, 1);
      assert.equal(bGotReply, false);
    });

    it('sends a socket that leaves and joins again nothing of its old join after the new join is answered', async () => {
      // The patch is a broadcast (null join_ref), which phoenix.js hands to whichever join of the
      // topic the socket has: a patch still in flight when a client leaves and joins again reaches
      // its new join. That is safe because the server drops the old member as it reads phx_leave:
      // all the old join was sent comes before the new join's reply, everything after the new
      // join's state:change follows it, and a client applies a patch only when its version follows
      // the state it holds (the old join's, here), which the state:change then replaces.
      const socket = connect();
      const writer = connect().channel('rejoin:1');
      const old = socket.channel('rejoin:1');
      await joinChannel(writer);
      await joinChannel(old);
      const joinRefOf = (channel: typeof old) => (channel as unknown as { joinRef(): string }).joinRef();
      const received: string[] = [];
      socket.onMessage((message) => {
        const { topic, event, join_ref, payload } = message as { topic: string; event: string; join_ref: string | null; payload: any };
        const join = join_ref === null ? 'broadcast' : join_ref === joinRefOf(old) ? 'old join' : 'new join';
        if (topic === 'rejoin:1') received.push(`${join}: ${event}${payload.version === undefined ? '' : ` ${payload.version}`}`);
      });
      // ws's socket under the phoenix client (private to ws): while it is paused, frames wait in the kernel.
      const reading = (socket as unknown as { conn: { _socket: { pause(): void; resume(): void } } }).conn._socket;
      reading.pause();
      const first = nextPush(writer, 'state:patch');
      writer.push('lvs_evt:addTodo', { todo: 'sent to the old join' });
      assert.equal((await first).version, 1);

      const authorized = new Promise<void>((resolve) => (onRejoinAuthorized = resolve));
      old.leave();
      const fresh = socket.channel('rejoin:1');
      const delivered: string[] = [];
      fresh.on('state:change', ({ version }) => void delivered.push(`state:change ${version}`));
      const caughtUp = new Promise<void>((resolve) =>
        fresh.on('state:patch', ({ version }) => {
          delivered.push(`state:patch ${version}`);
          if (version === 2) resolve();
        }),
      );
      fresh.join();
      await authorized;
      const second = nextPush(writer, 'state:patch');
      writer.push('lvs_evt:addTodo', { todo: 'sent to the new join' });
      assert.equal((await second).version, 2);
      reading.resume();
      await caughtUp;

      assert.deepEqual(received, [
        'broadcast: state:patch 1',
        'old join: phx_reply',
        'old join: phx_close',
        'new join: phx_reply',
        'new join: state:change 1',
        'broadcast: state:patch 2',
      ]);
      assert.deepEqual(delivered, ['state:patch 1', 'state:change 1', 'state:patch 2'], "phoenix.js gives the new join the old join's last patch");
    });

    it('gives a late joiner the current state and version, and keeps the state when all members leave', async () => {
      const a = connect().channel('shared:2');
      await joinChannel(a);
      const patched = nextPush(a, 'state:patch');
      a.push('lvs_evt:addTodo', { todo: 'first' });
      await patched;
      await new Promise((resolve) => a.leave().receive('ok', resolve));
      const late = connect().channel('shared:2');
      const change = nextPush(late, 'state:change');
      await joinChannel(late);
      const { state, version } = await change;
      assert.equal(version, 1);
      assert.deepEqual(state.todos, [{ id: 1, text: 'first', done: false }]);
    });

    it('applies events from many members one at a time, in arrival order, losing none', async () => {
      const members = Array.from({ length: 5 }, () => connect().channel('shared:3'));
      await Promise.all(members.map(joinChannel));
      const observer = members[0]!;
      const seen: number[] = [];
      const all = new Promise<void>((resolve) =>
        observer.on('state:patch', ({ version }) => {
          seen.push(version);
          if (seen.length === 50) resolve();
        }),
      );
      members.forEach((member, m) => {
        for (let i = 0; i < 10; i++) member.push('lvs_evt:addTodo', { todo: `${m}-${i}` });
      });
      await all;
      assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i + 1));
      const refreshed = nextPush(observer, 'state:change');
      observer.push('lvs_refresh', {});
      const { state } = await refreshed;
      assert.equal(state.todos.length, 50);
      assert.deepEqual(new Set(state.todos.map((t: any) => t.id)).size, 50);
      for (let m = 0; m < 5; m++) {
        const mine = state.todos.map((t: any) => t.text).filter((text: string) => text.startsWith(`${m}-`));
        assert.deepEqual(mine, Array.from({ length: 10 }, (_, i) => `${m}-${i}`));
      }
    });
  });
});
