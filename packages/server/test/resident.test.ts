import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GuestPool, LiveStateServer, SqliteStorage, wasmHandler, type WasmHandler } from '@livestate/server';
import { CaptureLogger } from './support/capture-logger.js';
import { joinTopic, quietLogger, startServer } from './support/clients.js';
import { guestPath } from './support/guests.js';
import { WasmTestServer } from './support/wasm-test-server.js';

/**
 * A topic's client: `send` pushes an event and resolves with its patch, or the error it got;
 * `added` collects the details of the `added` reply events on the way.
 */
async function counterClient(join: Promise<Awaited<ReturnType<typeof joinTopic>>>) {
  const joined = await join;
  const added: unknown[] = [];
  const send = async (event: string, payload: object = {}) => {
    joined.push(event, payload);
    const [, , , name, body] = await joined.client.next((frame) => {
      if (frame[3] === 'added') added.push(frame[4]);
      return frame[3] === 'state:patch' || frame[3] === 'error';
    });
    return name === 'error' ? { error: body.message as string } : { patch: body.patch, version: body.version as number };
  };
  return { ...joined, send, added };
}

describe('resident WebAssembly handlers', () => {
  const wasm = new WasmTestServer(async (load) => [
    { topic: 'todo:*', handler: await load(guestPath('todo')), scope: 'topic' },
    { topic: 'resident-todo:*', handler: await load(guestPath('resident')), scope: 'topic' },
    { topic: 'counter:*', handler: await load(guestPath('resident-raw')), scope: 'topic' },
    { topic: 'small:*', handler: await load(guestPath('resident-raw')), scope: 'topic', maxStateBytes: 1024 },
  ]);
  const counter = (params: object = {}) => counterClient(wasm.joined('counter', params));

  it('sends the payload alone and applies the patch the guest returns; the guest keeps its state between events', async () => {
    const { initial, send, refresh, added } = await counter({ start: 5 });
    assert.deepEqual(initial.state, { count: 5, calls: 0 });
    assert.deepEqual(await send('add', { by: 2 }), {
      patch: [
        { op: 'replace', path: '/count', value: 7 },
        { op: 'replace', path: '/calls', value: 1 },
      ],
      version: 1,
    });
    for (const by of [3, 4]) await send('add', { by });
    // calls counts the events since the guest loaded the state: 3, so it was loaded once.
    assert.deepEqual((await refresh()).state, { count: 14, calls: 3 });
    assert.deepEqual(added, [{ count: 7 }, { count: 10 }, { count: 14 }]);
  });

  it('runs the todo handler written with the toolkit to the same states as the classic one, for joiners too', async () => {
    const [classic, resident] = await Promise.all([wasm.joined('todo', { owner: 'ann' }), wasm.joined('resident-todo', { owner: 'ann' })]);
    assert.deepEqual(resident.initial.state, classic.initial.state);
    const script: Array<[string, object]> = [
      ['addTodo', { todo: 'one' }],
      ['addTodo', { todo: 'two' }],
      ['addTodo', { todo: 'three' }],
      ['toggleTodo', { id: 1 }],
      ['toggleTodo', { id: 3 }],
      ['removeTodo', { id: 2 }],
      ['addTodo', { todo: 'four' }],
      ['addTodo', { todo: '   ' }],
      ['toggleTodo', { id: 4 }],
    ];
    for (const [event, payload] of script) {
      const outcomes = [];
      for (const { push, client } of [classic, resident]) {
        push(event, payload);
        const [, , , name, body] = await client.next((frame) => frame[3] === 'state:patch' || frame[3] === 'error');
        outcomes.push(name === 'error' ? body.message : 'patched');
      }
      assert.equal(outcomes[1], outcomes[0], `${event} ${JSON.stringify(payload)}`);
      assert.deepEqual((await resident.refresh()).state, (await classic.refresh()).state, `after ${event} ${JSON.stringify(payload)}`);
    }
    for (const [event, payload] of [['addTodo', { todo: 'five' }], ['clearCompleted', {}]] as const) {
      resident.push(event, payload);
      await resident.client.nextEvent('state:patch');
    }
    const late = await joinTopic(wasm.server.url, resident.topic);
    assert.deepEqual(late.initial.state, { owner: 'ann', todos: [{ id: 5, text: 'five', done: false }], nextId: 6 });
    late.client.close();
  });

  it("keeps each topic's state in an instance of its own", async () => {
    const a = await counter({ start: 100 });
    const b = await counter({ start: 200 });
    for (let i = 0; i < 3; i++) {
      await a.send('add', { by: 1 });
      await b.send('add', { by: 10 });
    }
    assert.deepEqual((await a.refresh()).state, { count: 103, calls: 3 });
    assert.deepEqual((await b.refresh()).state, { count: 230, calls: 3 });
  });

  const failures: Array<[string, RegExp, string?]> = [
    ['refuse', /^refused after changing the counter$/],
    ['crash', /^the handler for "crash" failed: unreachable/],
    ['badPatch', /^the patch the handler for "badPatch" returned does not apply: patch path \/missing\/count: "missing" is not there$/],
    ['noPatch', /^the handler for "noPatch" exports livestate_resident but returned no \{"patch"/],
    ['grow', /^the state the patch the handler for "grow" returned leads to is \d+ bytes of JSON, over the limit of 1024 bytes/, 'small'],
  ];
  for (const [event, message, prefix = 'counter'] of failures) {
    it(`${event}: the client gets a precise error, the state stays, and the guest is loaded again from the server's copy`, async () => {
      const { send, refresh } = await counterClient(wasm.joined(prefix, { start: 1 }));
      await send('add', { by: 1 });
      const failed = await send(event);
      assert.match(failed.error ?? '', message);
      assert.deepEqual((await refresh()).state, { count: 2, calls: 1 });
      // The guest's own +1000 is gone: its state came back from the server, and its event count restarted.
      assert.deepEqual((await send('add', { by: 1 })).patch, [
        { op: 'replace', path: '/count', value: 3 },
        { op: 'replace', path: '/calls', value: 1 },
      ]);
    });
  }

  it('takes __proto__ in a patch as an own key, for joiners too', async () => {
    const { send } = await counter();
    const topic = `counter:proto`;
    const first = await counterClient(joinTopic(wasm.server.url, topic));
    await first.send('proto');
    const late = await joinTopic(wasm.server.url, topic);
    assert.equal(Object.hasOwn(late.initial.state, '__proto__'), true);
    assert.deepEqual(JSON.parse(JSON.stringify(late.initial.state)).__proto__, { polluted: true });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    late.client.close();
    first.client.close();
    assert.ok((await send('add', { by: 1 })).patch);
  });

  it('loads the state again after the module is reloaded', async () => {
    const { send, refresh } = await counter({ start: 1 });
    await send('add', { by: 1 });
    await send('add', { by: 1 });
    await wasm.handlers.find((handler) => handler.path.endsWith('resident-raw.wasm'))!.load();
    await send('add', { by: 1 });
    assert.deepEqual((await refresh()).state, { count: 4, calls: 1 });
  });
});

describe('resident states and their workers', () => {
  let pool: GuestPool;
  let server: LiveStateServer;
  after(async () => {
    await server?.close();
    await pool?.close();
  });

  it('drops the least recently used states past the memory budget, and loads them again when needed', async () => {
    pool = new GuestPool(1, { residentMiB: 0, inline: false });
    const handler = await wasmHandler(guestPath('resident-raw'), { pool, watch: false, logger: quietLogger });
    server = await startServer({ logger: quietLogger, routes: [{ topic: 'counter:*', handler, scope: 'topic' }] });
    const a = await counterClient(joinTopic(server.url, 'counter:a'));
    const b = await counterClient(joinTopic(server.url, 'counter:b'));
    await a.send('add', { by: 1 });
    await a.send('add', { by: 1 });
    await b.send('add', { by: 5 });
    // A budget of 0 keeps only the state just used: a's was dropped for b's, and loaded again.
    assert.deepEqual((await a.send('add', { by: 1 })).patch, [
      { op: 'replace', path: '/count', value: 3 },
      { op: 'replace', path: '/calls', value: 1 },
    ]);
    a.client.close();
    b.client.close();
    handler.close();
  });

  it("runs the calls sent behind a runaway one on a fresh worker, each with its state loaded again", async () => {
    await server?.close();
    await pool?.close();
    pool = new GuestPool(1, { inline: false });
    const handler = await wasmHandler(guestPath('resident-raw'), { pool, watch: false, logger: quietLogger, timeoutMs: 300 });
    server = await startServer({ logger: quietLogger, routes: [{ topic: 'counter:*', handler, scope: 'topic' }] });
    const clients = await Promise.all(['runaway', 'b', 'c'].map((name) => counterClient(joinTopic(server.url, `counter:${name}`))));
    for (const client of clients) await client.send('add', { by: 1 });
    const [runaway, ...others] = clients;
    // The worker holds all three states: the others' calls are sent to it behind the runaway one.
    const results = await Promise.all([runaway!.send('spin'), ...others.map((client) => client.send('add', { by: 1 }))]);
    assert.match(results[0]!.error ?? '', /timed out/);
    for (const result of results.slice(1)) {
      assert.deepEqual(result.patch, [
        { op: 'replace', path: '/count', value: 2 },
        { op: 'replace', path: '/calls', value: 1 },
      ]);
    }
    assert.deepEqual((await runaway!.send('add', { by: 1 })).patch?.[0], { op: 'replace', path: '/count', value: 2 });
    for (const client of clients) client.client.close();
    handler.close();
  });
});

describe("resident calls on the server's own thread", () => {
  const logger = new CaptureLogger();
  let pool: GuestPool;
  let server: LiveStateServer;
  let handler: WasmHandler;
  before(async () => {
    pool = new GuestPool(1);
    handler = await wasmHandler(guestPath('resident-raw'), { pool, watch: false, logger, timeoutMs: 500 });
    server = await startServer({ logger, routes: [{ topic: 'counter:*', handler, scope: 'topic' }] });
  });
  after(async () => {
    await server.close();
    handler.close();
    await pool.close();
  });

  it('does not send a module to workers when the call that overran is quick on a worker (the budget is wall time)', async () => {
    await handler.load();
    const warm = await counterClient(joinTopic(server.url, 'counter:warm'));
    await warm.send('add', { by: 1 });
    // Slow on the server's thread, where the state stayed warm; quick on the worker, which loads it.
    assert.deepEqual((await warm.send('slowWhenWarm')).patch, [{ op: 'replace', path: '/calls', value: 1 }]);
    assert.equal(logger.lines.filter((line) => line.includes('ran past')).length, 0);
    assert.deepEqual((await warm.send('add', { by: 1 })).patch?.[0], { op: 'replace', path: '/count', value: 2 });
    warm.client.close();
  });

  it('stops a runaway guest there within its budget, runs the event on a worker (where it times out), and sends its module to workers', async () => {
    const runaway = await counterClient(joinTopic(server.url, 'counter:spin'));
    const other = await counterClient(joinTopic(server.url, 'counter:other'));
    await other.send('add', { by: 1 });
    const heartbeat = other.client.ref();
    let settled = false;
    const failed = runaway.send('spin').finally(() => (settled = true));
    other.client.send([null, heartbeat, 'phoenix', 'heartbeat', {}]);
    await other.client.nextReply(heartbeat);
    assert.equal(settled, false, 'the heartbeat was answered while the runaway call ran on the worker');
    assert.match((await failed).error ?? '', /^the handler for "spin" timed out: the handler did not finish within 500 ms/);
    assert.ok(logger.lines.some((line) => /an event ran past 10 ms on the server's thread and again on a worker: the module's calls run on worker threads for 30 s/.test(line)));
    // Its state and the other topic's are as they were, now served by a worker.
    assert.deepEqual((await runaway.send('add', { by: 1 })).patch?.[0], { op: 'replace', path: '/count', value: 1 });
    assert.deepEqual((await other.send('add', { by: 1 })).patch, [
      { op: 'replace', path: '/count', value: 2 },
      { op: 'replace', path: '/calls', value: 1 },
    ]);
    runaway.client.close();
    other.client.close();
  });

  it('loads a state of more than 64 KiB on a worker, never on the server\'s thread', async () => {
    const big = await counterClient(joinTopic(server.url, 'counter:big'));
    // Grown after it was loaded while small, the state stays where it is.
    assert.ok((await big.send('pad', { bytes: 70_000 })).patch);
    assert.deepEqual((await big.send('add', { by: 1 })).patch?.[0], { op: 'replace', path: '/count', value: 1 });
    // A new module version loads every state again: this one is too large for the server's thread.
    await handler.load();
    const warnings = logger.lines.filter((line) => line.includes('ran past')).length;
    assert.match((await big.send('spin')).error ?? '', /timed out/);
    assert.equal(logger.lines.filter((line) => line.includes('ran past')).length, warnings, 'it ran on a worker from the start');
    big.client.close();
  });
});

describe('resident states unloaded from memory', () => {
  it('loads a state the server unloaded (maxStates) and read back from storage into the guest again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'livestate-resident-unload-'));
    const pool = new GuestPool(1);
    const handler = await wasmHandler(guestPath('resident-raw'), { pool, watch: false, logger: quietLogger });
    // SQLite hands back a new object; MemoryStorage would hand back the very state the guest kept in step with.
    const storage = new SqliteStorage(join(dir, 'state.db'));
    const server = await startServer({ logger: quietLogger, storage, maxStates: 1, unloadAfterMs: 0, routes: [{ topic: 'counter:*', handler, scope: 'topic' }] });
    const first = await counterClient(joinTopic(server.url, 'counter:a', { start: 10 }));
    await first.send('add', { by: 1 });
    await first.send('add', { by: 1 });
    first.client.close();
    // Only one state fits in memory: b's join unloads a's, which left.
    const other = await counterClient(joinTopic(server.url, 'counter:b'));
    other.client.close();
    const again = await counterClient(joinTopic(server.url, 'counter:a'));
    assert.deepEqual(again.initial.state, { count: 12, calls: 2 });
    assert.deepEqual((await again.send('add', { by: 1 })).patch, [
      { op: 'replace', path: '/count', value: 13 },
      { op: 'replace', path: '/calls', value: 1 },
    ]);
    again.client.close();
    await server.close();
    handler.close();
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });
});

describe('resident states across a restart', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestate-resident-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("loads a stored state into the guest on the first event after the server restarts", async () => {
    const module = join(dir, 'counter.wasm');
    await copyFile(guestPath('resident-raw'), module);
    const start = async () => {
      const handler = await wasmHandler(module, { watch: false, logger: quietLogger });
      const storage = new SqliteStorage(join(dir, 'state.db'));
      const server = await startServer({ logger: quietLogger, storage, routes: [{ topic: 'counter:*', handler, scope: 'topic' }] });
      return { server, handler, storage };
    };
    const first = await start();
    const before = await counterClient(joinTopic(first.server.url, 'counter:kept', { start: 10 }));
    for (let i = 0; i < 3; i++) await before.send('add', { by: 1 });
    before.client.close();
    await first.server.close();
    first.handler.close();

    const second = await start();
    const afterRestart = await counterClient(joinTopic(second.server.url, 'counter:kept'));
    assert.deepEqual(afterRestart.initial.state, { count: 13, calls: 3 });
    assert.deepEqual(await afterRestart.send('add', { by: 1 }), {
      patch: [
        { op: 'replace', path: '/count', value: 14 },
        { op: 'replace', path: '/calls', value: 1 },
      ],
      version: 4,
    });
    afterRestart.client.close();
    await second.server.close();
    second.handler.close();
  });
});
