import assert from 'node:assert/strict';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { GuestPool, UserError, wasmHandler, type LiveStateHandler, type LiveStateServer, type State } from '@livestate/server';
import { CaptureLogger } from './support/capture-logger.js';
import { RawClient, startServer, withoutEpoch } from './support/clients.js';
import { guestPath } from './support/guests.js';
import { todoHandler } from './support/todo-handler.js';

const HANDLER_TIMEOUT_MS = 500;

/** Values a careless handler may throw, each of which once took the process down or hid the message. */
const odd = {
  bigint: () => 10n,
  circular: () => {
    const value: Record<string, unknown> = { name: 'loop' };
    value.self = value;
    return value;
  },
  nullPrototype: () => Object.assign(Object.create(null), { code: 7 }),
  symbol: () => Symbol('odd'),
  hostile: () =>
    new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
        getPrototypeOf: () => {
          throw new Error('trap');
        },
      },
    ),
} satisfies Record<string, () => unknown>;
type Odd = keyof typeof odd;
const oddKinds = Object.keys(odd) as Odd[];
/** How the log describes each. */
const described: Record<Odd, string> = {
  bigint: '10n',
  circular: "<ref *1> { name: 'loop', self: [Circular *1] }",
  nullPrototype: '[Object: null prototype] { code: 7 }',
  symbol: 'Symbol(odd)',
  hostile: 'a thrown value that cannot be described',
};

/** `init:<kind>` throws that kind; `init:never` never settles; `init:bigstate` returns a state JSON cannot carry. */
const initFails: LiveStateHandler = {
  init: (topic) => {
    const kind = topic.split(':')[1]!;
    if (kind === 'never') return new Promise(() => undefined);
    if (kind === 'unencodable') return { count: 10n } as any;
    if (kind === 'large') return { padding: 'x'.repeat(100) } as State;
    if (kind === 'user') throw new UserError('no such list');
    throw odd[kind as Odd]();
  },
  handleEvent: (_name, _payload, state) => state,
};

/** `auth:<kind>` throws that kind from authorize; `auth:never` never settles. */
const authorizeFails: LiveStateHandler = {
  ...todoHandler,
  authorize: (topic) => {
    const kind = topic.split(':')[1]!;
    if (kind === 'never') return new Promise(() => undefined);
    if (kind === 'user') throw new UserError('token service down');
    throw odd[kind as Odd]();
  },
};

describe('failing hooks: init, authorize and connect that throw anything or never settle', () => {
  let server: LiveStateServer;
  const logger = new CaptureLogger();
  /** The connect hook throws `?throw=<kind>`; with `?hold=yes` it tells `held` and waits for `release`. */
  let held: () => void = () => undefined;
  let release: Promise<void> = Promise.resolve();

  before(async () => {
    server = await startServer({
      logger,
      handlerTimeoutMs: HANDLER_TIMEOUT_MS,
      routes: [
        { topic: 'init:*', handler: initFails, maxStateBytes: 64 },
        { topic: 'auth:*', handler: authorizeFails },
        { topic: 'todo:*', handler: todoHandler, scope: 'topic' },
      ],
      connect: async ({ params }) => {
        if (params.hold === 'yes') {
          held();
          await release;
        }
        if (typeof params.throw === 'string') throw odd[params.throw as Odd]();
        return true;
      },
    });
  });
  after(() => server.close());

  /** A bystander on a shared topic still gets its events through: the process and the other sockets are fine. */
  async function assertServerWorks(): Promise<void> {
    const client = await RawClient.connect(server.url);
    const topic = `todo:${Math.random()}`;
    const joinRef = client.join(topic);
    await client.nextEvent('state:change');
    client.send([joinRef, client.ref(), topic, 'lvs_evt:addTodo', { todo: 'still here' }]);
    const [, , , , { version }] = await client.nextEvent('state:patch');
    assert.equal(version, 1);
    client.close();
  }

  /** Joins and returns the join reply and, after it, the `error` push. */
  async function joinFailing(topic: string): Promise<{ reply: any; error: any }> {
    const client = await RawClient.connect(server.url);
    const ref = client.join(topic);
    const [, , , , reply] = await client.nextReply(ref);
    const error = reply.status === 'ok' ? (await client.nextEvent('error'))[4] : undefined;
    client.close();
    return { reply, error };
  }

  for (const kind of oddKinds) {
    it(`pushes "internal error in handler" when init throws a ${kind}, and logs it`, async () => {
      const { reply, error } = await joinFailing(`init:${kind}`);
      assert.equal(reply.status, 'ok');
      assert.deepEqual(error, { message: 'internal error in handler' });
      const line = await logger.waitFor(new RegExp(`^error handler threw: topic "init:${kind}", event "init": `));
      assert.equal(line, `error handler threw: topic "init:${kind}", event "init": ${described[kind]}`);
      await assertServerWorks();
    });

    it(`refuses the join when authorize throws a ${kind}, and logs it`, async () => {
      const { reply } = await joinFailing(`auth:${kind}`);
      assert.deepEqual(reply, { status: 'error', response: { reason: 'authorization failed: internal error in handler' } });
      const line = await logger.waitFor(new RegExp(`^error handler threw: topic "auth:${kind}", event "authorize": `));
      assert.equal(line, `error handler threw: topic "auth:${kind}", event "authorize": ${described[kind]}`);
      await assertServerWorks();
    });

    it(`refuses the socket (403) when the connect hook throws a ${kind}, and logs it`, async () => {
      const ws = new WebSocket(`${server.url}/websocket?vsn=2.0.0&throw=${kind}`);
      const status = await new Promise((resolve) => ws.on('unexpected-response', (_request, response) => resolve(response.statusCode)));
      ws.on('error', () => undefined).terminate();
      assert.equal(status, 403);
      const text = described[kind];
      await logger.waitFor(new RegExp(`^warn connect hook failed: ${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      await assertServerWorks();
    });
  }

  it('sends a UserError from init or authorize verbatim', async () => {
    assert.deepEqual((await joinFailing('init:user')).error, { message: 'no such list' });
    assert.deepEqual((await joinFailing('auth:user')).reply.response, { reason: 'authorization failed: token service down' });
    await logger.waitFor(/^warn handler failed: topic "init:user", event "init": no such list$/);
  });

  it('fails an init that never settles with a timeout error; the next join tries again', async () => {
    const { error } = await joinFailing('init:never');
    assert.deepEqual(error, { message: `init timed out: it did not finish within ${HANDLER_TIMEOUT_MS} ms` });
    await logger.waitFor(/^warn handler failed: topic "init:never", event "init": init timed out/);
    await assertServerWorks();
  });

  it('refuses an authorize that never settles with a timeout error', async () => {
    const { reply } = await joinFailing('auth:never');
    assert.deepEqual(reply.response, {
      reason: `authorization failed: authorize timed out: it did not finish within ${HANDLER_TIMEOUT_MS} ms`,
    });
  });

  it('refuses an initial state that cannot be encoded or is over maxStateBytes, with the reason', async () => {
    assert.deepEqual((await joinFailing('init:unencodable')).error, {
      message: 'the state init returned cannot be encoded as JSON: Do not know how to serialize a BigInt',
    });
    assert.deepEqual((await joinFailing('init:large')).error, {
      message: 'the state init returned is 114 bytes of JSON, over the limit of 64 bytes (maxStateBytes)',
    });
    await assertServerWorks();
  });

  it('answers an upgrade request whose URL cannot be parsed with 400 (it crashed the process)', async () => {
    const { port } = server.address()!;
    const tcp = connectTcp(port, '127.0.0.1');
    let response = '';
    tcp.on('data', (data) => (response += data.toString()));
    const closed = new Promise((resolve) => tcp.on('close', resolve));
    tcp.write(
      'GET //[ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await closed;
    assert.match(response, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nthe request URL cannot be parsed$/);
    await assertServerWorks();
  });

  it('survives a client that resets its connection while the connect hook runs', async () => {
    let releaseConnect!: () => void;
    release = new Promise<void>((resolve) => (releaseConnect = resolve));
    const inHook = new Promise<void>((resolve) => (held = resolve));
    const { port } = server.address()!;
    const tcp = connectTcp(port, '127.0.0.1');
    tcp.on('error', () => undefined);
    await new Promise<void>((resolve) => tcp.once('connect', resolve));
    tcp.write(
      'GET /socket/websocket?vsn=2.0.0&hold=yes HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
    await inHook;
    tcp.resetAndDestroy();
    await logger.waitFor(/^warn upgrade of \/socket\/websocket\?vsn=2\.0\.0&hold=yes: .*ECONNRESET/);
    releaseConnect();
    await assertServerWorks();
    const late = await RawClient.connect(server.url);
    late.join('todo:late');
    assert.deepEqual(withoutEpoch((await late.nextEvent('state:change'))[4]), { state: { todos: [], nextId: 1 }, version: 0 });
    late.close();
  });
});

describe('the time limit and WebAssembly handlers', () => {
  it('leaves a WebAssembly call to its own time limit, which stops the guest, rather than abandoning it', async () => {
    const pool = new GuestPool(1);
    const logger = new CaptureLogger();
    const handler = await wasmHandler(guestPath('faulty'), { pool, logger, watch: false, timeoutMs: 2000 });
    const server = await startServer({ logger, handlerTimeoutMs: 100, routes: [{ topic: 'faulty:*', handler }] });
    try {
      const client = await RawClient.connect(server.url);
      const joinRef = client.join('faulty:1');
      const [, , , event, payload] = await client.next((frame) => frame[3] === 'state:change' || frame[3] === 'error');
      assert.equal(event, 'state:change', `init failed: ${JSON.stringify(payload)}`);
      client.send([joinRef, client.ref(), 'faulty:1', 'lvs_evt:spin', {}]);
      const [, , , , { message }] = await client.nextEvent('error');
      assert.equal(message, 'the handler for "spin" timed out: the handler did not finish within 2000 ms and was stopped');
      client.close();
    } finally {
      await server.close();
      await handler.close();
      await pool.close();
    }
  });
});
