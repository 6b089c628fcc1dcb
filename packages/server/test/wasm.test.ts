import assert from 'node:assert/strict';
import { copyFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GuestPool, wasmHandler, type LiveStateServer } from '@livestate/server';
import { startServer, withoutEpoch, type Frame } from './support/clients.js';
import { guestPath } from './support/guests.js';
import { todoHandler } from './support/todo-handler.js';
import { WasmTestServer } from './support/wasm-test-server.js';

describe('WebAssembly handlers', () => {
  const wasm = new WasmTestServer(async (load) => {
    const guest = (name: string, options = {}) => load(guestPath(name), options);
    return [
      { topic: 'todo:*', handler: await guest('todo'), scope: 'topic' },
      { topic: 'portable:*', handler: await guest('todo-portable') },
      { topic: 'original:*', handler: await guest('original') },
      { topic: 'verbatim:*', handler: await guest('verbatim') },
      { topic: 'verbatim-envelope:*', handler: await guest('verbatim-envelope') },
      { topic: 'faulty:*', handler: await guest('faulty', { maxMemoryMiB: 16, timeoutMs: 500, maxOutputBytes: 64 * 1024 }), scope: 'topic' },
      { topic: 'wasi:*', handler: await guest('wasi') },
      { topic: 'js:*', handler: todoHandler },
    ];
  });
  const { logger, joined } = wasm;
  const load = (name: string, options = {}) => wasm.load(guestPath(name), options);

  it('runs the todo handler: init with the join params, reply events before the patch', async () => {
    const { client, initial, push } = await joined('todo', { owner: 'ann' });
    assert.deepEqual(withoutEpoch(initial), { state: { owner: 'ann', todos: [], nextId: 1 }, version: 0 });
    push('addTodo', { todo: 'Buy milk' });
    const reply = await client.next((f) => f[3] === 'todo-added' || f[3] === 'state:patch');
    assert.deepEqual(reply[3], 'todo-added');
    assert.deepEqual(reply[4], { id: 1 });
    const [, , , , patch] = await client.nextEvent('state:patch');
    assert.deepEqual(patch, {
      patch: [
        { op: 'add', path: '/todos/0', value: { id: 1, text: 'Buy milk', done: false } },
        { op: 'replace', path: '/nextId', value: 2 },
      ],
      version: 1,
    });
  });

  for (const [prefix, path] of [['todo', 'fast path'], ['portable', 'standard kernel calls']]) {
    it(`round-trips non-ASCII text (${path})`, async () => {
      const { client, push, refresh } = await joined(prefix);
      const text = 'héllo wörld ✓ 日本語 🎉';
      push('addTodo', { todo: text });
      await client.nextEvent('state:patch');
      assert.equal((await refresh()).state.todos[0].text, text);
    });
  }

  it('runs a module in the original convention: init ignores its input, events return the bare state', async () => {
    const { client, initial, push } = await joined('original', { ignored: true });
    assert.deepEqual(initial.state, { todos: [] });
    push('add_todo', { todo: 'original' });
    const [, , , , { patch }] = await client.nextEvent('state:patch');
    assert.deepEqual(patch, [{ op: 'add', path: '/todos/0', value: 'original' }]);
  });

  for (const prefix of ['verbatim', 'verbatim-envelope']) {
    it(`sends a guest back its state as the JSON text it wrote, not re-encoded (${prefix})`, async () => {
      const { client, initial, push } = await joined(prefix);
      assert.deepEqual(initial.state, { price: 1.5 });
      push('echo', { n: 1 });
      const [, , , , first] = await client.nextEvent('state:patch');
      assert.deepEqual(first.patch, [{ op: 'add', path: '/input', value: '[{"n":1},{ "price" : 1.50 }]' }]);
      push('echo', {});
      const [, , , , second] = await client.nextEvent('state:patch');
      const previousText = `{ "price" : 1.50, "input" : ${JSON.stringify('[{"n":1},{ "price" : 1.50 }]')} }`;
      assert.deepEqual(second.patch, [{ op: 'replace', path: '/input', value: `[{},${previousText}]` }]);
    });
  }

  /** Sends an event that must fail, and checks the error, that the state is unchanged and that the topic still works. */
  async function assertFailsCleanly(event: string, payload: object, message: string | RegExp) {
    const topic = await joined('faulty');
    topic.push('count');
    await topic.client.nextEvent('state:patch');
    topic.push(event, payload);
    const [, , , , error] = await topic.client.nextEvent('error');
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    assert.equal(error.event, event);
    assert.deepEqual(withoutEpoch(await topic.refresh()), { state: { count: 1 }, version: 1 }, 'the state is unchanged');
    topic.push('count');
    const [, , , , next] = await topic.client.nextEvent('state:patch');
    assert.deepEqual(next, { patch: [{ op: 'replace', path: '/count', value: 2 }], version: 2 }, 'the next event works');
    return topic;
  }

  it('passes a domain error from error_set to the client verbatim', async () => {
    await assertFailsCleanly('domainError', {}, 'nope: «not allowed»');
    const { client, push } = await joined('todo');
    push('addTodo', { todo: '   ' });
    assert.equal((await client.nextEvent('error'))[4].message, 'a todo needs some text');
  });

  it('recovers from a trap, and the abort message reaches the logger', async () => {
    await assertFailsCleanly('trap', {}, /the handler for "trap" failed: .*unreachable/);
    await logger.waitFor(/error \[faulty\.wasm\] guest assertion failed at .*faulty\.ts/);
  });

  it('refuses output that is not JSON, not an object, or missing', async () => {
    await assertFailsCleanly('notJson', {}, /the handler for "notJson" returned invalid JSON/);
    await assertFailsCleanly('notObject', {}, 'handler for "notObject" returned an array, expected an object');
    await assertFailsCleanly('noOutput', {}, 'the handler for "noOutput" set no output');
  });

  it('refuses output larger than maxOutputBytes, and accepts output of exactly that size', async () => {
    const topic = await assertFailsCleanly(
      'flood',
      { bytes: 64 * 1024 + 1 },
      'the handler for "flood" returned too much: 65,537 bytes of output, more than the 65,536 allowed (maxOutputBytes)',
    );
    topic.push('flood', { bytes: 64 * 1024 });
    assert.equal((await topic.client.nextEvent('state:patch'))[4].version, 3);
  });

  it('answers an event the module does not export with an error', async () => {
    await assertFailsCleanly('nonexistent', {}, 'unknown event "nonexistent"');
  });

  it('caps the memory of a module that declares no maximum: a guest that grows past it gets an error', async () => {
    const { client, push } = await joined('faulty');
    push('grow', { mib: 4 });
    assert.equal((await client.nextEvent('state:patch'))[4].patch[0].value, 4 * 1024 * 1024);
    await assertFailsCleanly('grow', { mib: 64 }, /the handler for "grow" failed/);
  });

  it('caps the memory a guest takes on the host side (Extism kernel blocks) at its memory cap, per call', async () => {
    const { client, push } = await joined('faulty');
    push('hoard', { blocks: 1, mib: 8 });
    assert.equal((await client.nextEvent('state:patch'))[4].patch[0].value, 1);
    await assertFailsCleanly('hoard', { blocks: 40, mib: 8 }, /^the handler for "hoard" failed: .*more than the 16 MiB/);
  });

  it('replaces an instance after a trap and after its memory grew past the recycle limit', async () => {
    const ownPool = new GuestPool(1);
    const recycling = await load('faulty', { maxMemoryMiB: 16, recycleMemoryMiB: 2, pool: ownPool });
    const recycleServer = await startServer({ logger, routes: [{ topic: 'recycle', handler: recycling }] });
    try {
      const client = await wasm.connect(recycleServer.url);
      const joinRef = client.join('recycle');
      await client.nextEvent('state:change');
      const callsOnInstance = async () => {
        client.send([joinRef, client.ref(), 'recycle', 'lvs_evt:instanceCalls', {}]);
        const [, , , , { patch }] = await client.nextEvent('state:patch');
        return patch[0]?.value;
      };
      assert.equal(await callsOnInstance(), 1);
      assert.equal(await callsOnInstance(), 2, 'the same instance serves the next call');
      client.send([joinRef, client.ref(), 'recycle', 'lvs_evt:trap', {}]);
      await client.nextEvent('error');
      assert.equal(await callsOnInstance(), 1, 'a fresh instance after the trap');
      assert.equal(await callsOnInstance(), 2);
      client.send([joinRef, client.ref(), 'recycle', 'lvs_evt:grow', { mib: 4 }]);
      await client.nextEvent('state:patch');
      assert.equal(await callsOnInstance(), 1, 'a fresh instance after growing past 2 MiB');
    } finally {
      await recycleServer.close();
      await ownPool.close();
    }
  });

  it('delivers guest log lines to the server logger', async () => {
    const { client, push } = await joined('faulty');
    push('log');
    await client.nextEvent('state:patch');
    await logger.waitFor(/info \[faulty\.wasm\] hello from the guest/);
    await logger.waitFor(/warn \[faulty\.wasm\] careful, guest here/);
  });

  it('stops a runaway guest after the time limit while other sockets and topics are served', async () => {
    const looping = await joined('faulty');
    const other = await joined('js');
    const order: string[] = [];
    looping.push('spin');
    const error = looping.client.nextEvent('error').then((frame) => {
      order.push('timeout error');
      return frame;
    });
    for (let i = 0; i < 3; i++) {
      const ref = other.client.ref();
      other.client.send([null, ref, 'phoenix', 'heartbeat', {}]);
      await other.client.nextReply(ref);
      other.push('addTodo', { todo: `meanwhile ${i}` });
      await other.client.nextEvent('state:patch');
      order.push('served');
    }
    const [, , , , { message }] = await error;
    assert.equal(message, 'the handler for "spin" timed out: the handler did not finish within 500 ms and was stopped');
    assert.deepEqual(order, ['served', 'served', 'served', 'timeout error']);
    looping.push('count');
    assert.equal((await looping.client.nextEvent('state:patch'))[4].version, 1);
  });

  describe('with topics whose every call runs to the time limit', () => {
    let busyServer: LiveStateServer;
    let busyPool: GuestPool;

    before(async () => {
      busyPool = new GuestPool(2);
      const runaway = await load('faulty', { pool: busyPool, timeoutMs: 5000, maxWaitingCalls: 2 });
      busyServer = await startServer({ logger, routes: [{ topic: 'hammer:*', handler: runaway, scope: 'connection' }] });
    });

    after(async () => {
      await busyServer.close();
      await busyPool.close();
    });

    /** Connection-scoped joins of one topic, one after the other: each has a state of its own, and all share the topic's turn. */
    async function members(topic: string, count: number) {
      const joined = [];
      for (let i = 0; i < count; i++) joined.push(await member(topic));
      return joined;
    }

    async function member(topic: string) {
      const client = await wasm.connect(busyServer.url);
      const joinRef = client.join(topic);
      await client.nextEvent('state:change');
      const push = (event: string) => client.send([joinRef, client.ref(), topic, `lvs_evt:${event}`, {}]);
      const refresh = async () => {
        client.send([joinRef, client.ref(), topic, 'lvs_refresh', {}]);
        return (await client.nextEvent('state:change'))[4];
      };
      return { client, push, refresh };
    }

    it("serves another topic's events before a hammering topic's waiting calls start", async () => {
      const hammering = await members('hammer:spin', 3);
      const healthy = await member('hammer:calm');
      const order: string[] = [];
      for (const { client, push } of hammering) {
        push('spin');
        // The server closes these sockets at the end, with the calls still queued.
        client.nextEvent('error').then(() => order.push('runaway call ended'), () => undefined);
      }
      for (let i = 1; i <= 3; i++) {
        healthy.push('count');
        const [, , , , { version }] = await healthy.client.nextEvent('state:patch');
        assert.equal(version, i);
        order.push('served');
      }
      assert.deepEqual(order, ['served', 'served', 'served'], 'no runaway call ended, so no waiting one started');
    });

    it('fails an event at once with "busy" when its topic already has the most calls waiting; its state stays', async () => {
      const crowd = await members('hammer:busy', 4);
      crowd.forEach(({ push }) => push('spin'));
      const first = await Promise.race(crowd.map((one) => one.client.nextEvent('error').then((frame) => ({ one, frame }))));
      assert.deepEqual(first.frame[4], {
        message: 'the handler for "spin" is busy: 2 calls of topic "hammer:busy" are already waiting',
        event: 'spin',
      });
      assert.deepEqual(withoutEpoch(await first.one.refresh()), { state: { count: 0 }, version: 0 });
    });
  });

  describe('a guest that keeps what it saw between calls', () => {
    let leakServer: LiveStateServer;
    let onePool: GuestPool;

    before(async () => {
      onePool = new GuestPool(1);
      const leaky = await load('leaky', { pool: onePool });
      leakServer = await startServer({
        logger,
        routes: [
          { topic: 'shared:*', handler: leaky, scope: 'topic' },
          { topic: 'private', handler: leaky, scope: 'connection' },
        ],
      });
    });

    after(async () => {
      await leakServer.close();
      await onePool.close();
    });

    async function user(topic: string) {
      const client = await wasm.connect(leakServer.url);
      const joinRef = client.join(topic);
      await client.nextEvent('state:change');
      /** Sends the event and returns what the guest said the previous call left (from the state's `previous`). */
      return async (event: string, secret: string): Promise<string> => {
        const ref = client.ref();
        client.send([joinRef, ref, topic, `lvs_evt:${event}`, { secret }]);
        await client.nextReply(ref);
        client.send([joinRef, client.ref(), topic, 'lvs_refresh', {}]);
        return (await client.nextEvent('state:change'))[4].state.previous;
      };
    }

    for (const where of ['Global', 'Var']) {
      const event = `rememberIn${where}`;
      it(`shows no topic what another topic's calls left in a ${where.toLowerCase()} (one worker, one instance)`, async () => {
        const alice = await user('shared:alice');
        const bob = await user('shared:bob');
        assert.equal(await alice(event, 'alice secret'), '');
        assert.equal(await bob(event, 'bob secret'), '', "bob's call does not see alice's secret");
        assert.equal(await alice(event, 'alice again'), '', "alice's call does not see bob's");
      });

      it(`shows no connection what another connection's calls left in a ${where.toLowerCase()}, on a connection-scoped topic`, async () => {
        const carol = await user('private');
        const dave = await user('private');
        assert.equal(await carol(event, 'carol secret'), '');
        assert.equal(await dave(event, 'dave secret'), '', "dave's call does not see carol's secret");
      });
    }

    it('keeps the instance between calls for one state, whoever sends them (no reset within a shared topic)', async () => {
      const first = await user('shared:team');
      const second = await user('shared:team');
      assert.equal(await first('rememberInGlobal', 'one'), '');
      assert.equal(await second('rememberInGlobal', 'two'), 'one', 'the same instance, not reset: it is the same state');
    });
  });

  it('runs modules that import WASI, sandboxed, with stdout and stderr sent to the logger', async () => {
    const { client, initial, push } = await joined('wasi');
    assert.deepEqual(initial.state, { started: true });
    push('speak');
    await client.nextEvent('state:patch');
    await logger.waitFor(/info \[wasi\.wasm\] to stdout from WASI/);
    await logger.waitFor(/warn \[wasi\.wasm\] to stderr from WASI/);
    push('quit');
    assert.match((await client.nextEvent('error'))[4].message, /exited with code 3/);
  });

  it('applies concurrent events from 50 clients on one topic without losing or mixing up any', async () => {
    const topic = 'todo:crowd';
    const members = await Promise.all(Array.from({ length: 50 }, () => joined('todo', {}, { topic })));
    const perClient = 4;
    const versions: number[] = [];
    const observer = members[0]!.client;
    const allPatches = (async () => {
      while (versions.length < members.length * perClient) {
        versions.push((await observer.nextEvent('state:patch'))[4].version);
      }
    })();
    members.forEach((member, m) => {
      for (let i = 0; i < perClient; i++) member.push('addTodo', { todo: `${m}/${i}` });
    });
    await allPatches;
    assert.deepEqual(versions, Array.from({ length: 200 }, (_, i) => i + 1));
    const { state } = await members[1]!.refresh();
    assert.equal(state.todos.length, 200);
    assert.deepEqual(state.todos.map((t: any) => t.id), Array.from({ length: 200 }, (_, i) => i + 1));
    members.forEach((_, m) => {
      const mine = state.todos.map((t: any) => t.text).filter((text: string) => text.startsWith(`${m}/`));
      assert.deepEqual(mine, Array.from({ length: perClient }, (_, i) => `${m}/${i}`));
    });
  });

  it('reloads the module when its file changes, keeping current states', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livestate-reload-'));
    const path = join(dir, 'handler.wasm');
    await copyFile(guestPath('todo'), path);
    const reloading = await wasm.load(path, { watch: true });
    const reloadServer = await startServer({ logger, routes: [{ topic: 'live', handler: reloading, scope: 'topic' }] });
    try {
      const client = await wasm.connect(reloadServer.url);
      const joinRef = client.join('live');
      await client.nextEvent('state:change');
      const push = (event: string, payload: object = {}): void => client.send([joinRef, client.ref(), 'live', `lvs_evt:${event}`, payload]);
      push('addTodo', { todo: 'before reload' });
      await client.nextEvent('state:patch');

      await writeFile(path, 'not a module');
      await logger.waitFor(/kept the previous module: reloading .*handler\.wasm failed: not a WebAssembly module/);
      await copyFile(guestPath('faulty'), path);
      await logger.waitFor(new RegExp(`reloaded ${path.replace(/[.]/g, '\\.')}`));

      client.send([joinRef, client.ref(), 'live', 'lvs_refresh', {}]);
      const [, , , , kept] = await client.nextEvent('state:change');
      assert.equal(kept.state.todos[0].text, 'before reload', 'the state is kept');
      push('addTodo', { todo: 'x' });
      assert.equal((await client.nextEvent('error'))[4].message, 'unknown event "addTodo"');
      push('count');
      const frame: Frame = await client.nextEvent('state:patch');
      assert.deepEqual(frame[4].version, 2);
    } finally {
      await reloadServer.close();
    }
  });

  it('warns at load when a module exports no init', async () => {
    const noInit = await load('no-init');
    assert.deepEqual([...noInit.events], ['touch']);
    assert.ok(logger.lines.includes('warn [no-init.wasm] exports no "init" function: every join will get an error instead of a state'));
  });

  it('warns once when a module without livestate_envelope returns the envelope shape, and keeps the old result', async () => {
    const strayServer = await startServer({ logger, routes: [{ topic: 'stray', handler: await load('stray-envelope') }] });
    try {
      const client = await wasm.connect(strayServer.url);
      const joinRef = client.join('stray');
      await client.nextEvent('state:change');
      for (const version of [1, 2]) {
        client.send([joinRef, client.ref(), 'stray', 'lvs_evt:bump', {}]);
        assert.equal((await client.nextEvent('state:patch'))[4].version, version);
      }
      client.send([joinRef, client.ref(), 'stray', 'lvs_refresh', {}]);
      const [, , , , { state }] = await client.nextEvent('state:change');
      assert.deepEqual(state, { state: { count: 1 }, events: [{ name: 'bumped', detail: {} }] }, 'the whole output is the state, as before');
      const warnings = logger.lines.filter((line) => line.includes('[stray-envelope.wasm]') && line.includes('livestate_envelope'));
      assert.deepEqual(warnings, [
        'warn [stray-envelope.wasm] "bump" returned {"state", "events"} but the module does not export livestate_envelope, ' +
          'so the whole object became the state and no reply events were sent: export livestate_envelope to opt in',
      ]);
    } finally {
      await strayServer.close();
    }
  });

  it('refuses a file that is not a WebAssembly module, with the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livestate-bad-'));
    await writeFile(join(dir, 'bad.wasm'), 'hello');
    await assert.rejects(wasmHandler(join(dir, 'bad.wasm'), { pool: wasm.pool, watch: false }), /not a WebAssembly module/);
    await assert.rejects(wasmHandler(join(dir, 'missing.wasm'), { pool: wasm.pool, watch: false }), /ENOENT/);
  });
});
