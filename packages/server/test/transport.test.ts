import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { defineHandler, LiveStateServer } from '@livestate/server';
import { CaptureLogger } from './support/capture-logger.js';
import { joinChannel, nextPush, phoenixSocket, quietLogger, RawClient, startServer, upgradeStatus } from './support/clients.js';
import { todoHandler } from './support/todo-handler.js';

const whoAmI = defineHandler({
  init: (_topic, _params, socket) => ({ user: String(socket.assigns.user), room: String((socket.params.room as any)?.name) }),
  events: {},
});

describe('transport', () => {
  it('selects the phoenix subprotocol and hands the authToken to the connect hook', async () => {
    const tokens: Array<string | undefined> = [];
    const server = await startServer({
      routes: [{ topic: 'me', handler: whoAmI }],
      connect: ({ authToken, params }) => {
        tokens.push(authToken);
        return authToken === 's3cret' ? { user: `ann (${String(params.client)})` } : false;
      },
    });
    const socket = phoenixSocket(server.url, { authToken: 's3cret', params: { client: 'web', room: { name: 'lobby' } } });
    const channel = socket.channel('me');
    const change = nextPush(channel, 'state:change');
    await joinChannel(channel);
    assert.deepEqual((await change).state, { user: 'ann (web)', room: 'lobby' });
    assert.equal((socket as any).conn.protocol, 'phoenix');
    assert.deepEqual(tokens, ['s3cret']);
    assert.equal(await upgradeStatus(`${server.url}/websocket?vsn=2.0.0`), 403, 'no token: refused');
    socket.disconnect();
    await server.close();
  });

  it('refuses a socket when the connect hook throws', async () => {
    const server = await startServer({
      routes: [{ topic: 'me', handler: whoAmI }],
      connect: () => {
        throw new Error('auth service down');
      },
    });
    assert.equal(await upgradeStatus(`${server.url}/websocket`), 403);
    await server.close();
  });

  it('admits only allow-listed origins when an allow-list is set', async () => {
    const server = await startServer({ routes: [{ topic: 'todo:*', handler: todoHandler }], origins: ['https://app.example'] });
    assert.equal(await upgradeStatus(`${server.url}/websocket`, { origin: 'https://evil.example' }), 403);
    const ws = new WebSocket(`${server.url}/websocket`, { headers: { origin: 'https://app.example' } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    ws.close();
    await server.close();
  });

  it('refuses other serializer versions and other paths', async () => {
    const server = await startServer({ routes: [{ topic: 'todo:*', handler: todoHandler }], path: '/live' });
    assert.equal(server.url.endsWith('/live'), true);
    assert.equal(await upgradeStatus(`${server.url}/websocket?vsn=1.0.0`), 400);
    assert.equal(await upgradeStatus(server.url.replace('/live', '/socket/websocket')), 404);
    await server.close();
  });

  it('refuses socket params nested more than 512 levels deep with 400, and logs it', async () => {
    const logger = new CaptureLogger();
    const server = await startServer({ routes: [{ topic: 'todo:*', handler: todoHandler }], logger });
    const nestedParam = (levels: number) => `${server.url}/websocket?vsn=2.0.0&p${'[a]'.repeat(levels - 1)}=1`;
    assert.equal(await upgradeStatus(nestedParam(513)), 400);
    assert.equal(await logger.waitFor(/refused/), 'warn upgrade of /socket/websocket refused: the socket params are nested more than 512 levels deep');
    assert.equal(await upgradeStatus(nestedParam(512)), 101);
    await server.close();
  });

  it('closes a socket that stays silent, and keeps one that sends heartbeats', async () => {
    const server = await startServer({ routes: [{ topic: 'todo:*', handler: todoHandler }], idleTimeoutMs: 300 });
    const beating = phoenixSocket(server.url, { heartbeatIntervalMs: 50 });
    const channel = beating.channel('todo:1');
    await joinChannel(channel);
    const silent = await RawClient.connect(server.url);
    const closed = await silent.closedWith();
    assert.deepEqual(closed, { code: 1000, reason: 'heartbeat timeout' });
    assert.equal(beating.isConnected(), true);
    const patched = nextPush(channel, 'state:patch');
    channel.push('lvs_evt:addTodo', { todo: 'still here' });
    assert.equal((await patched).version, 1);
    beating.disconnect();
    await server.close();
  });

  it('attaches to an existing HTTP server, leaving its requests and other upgrades alone', async () => {
    const http = createServer((_request, response) => response.end('app page'));
    const live = new LiveStateServer({ routes: [{ topic: 'todo:*', handler: todoHandler }], logger: quietLogger }).attach(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const { port } = http.address() as AddressInfo;
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'app page');
    const socket = phoenixSocket(`ws://127.0.0.1:${port}/socket`);
    const channel = socket.channel('todo:attached');
    const change = nextPush(channel, 'state:change');
    await joinChannel(channel);
    assert.equal((await change).version, 0);
    assert.equal(live.url, `ws://127.0.0.1:${port}/socket`);
    socket.disconnect();
    await live.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  it("writes all a client is sent in one turn of the event loop at once: an event's reply event, patch and acknowledgement", async () => {
    const http = createServer();
    let writes = 0;
    http.on('connection', (socket: Socket) => {
      // A net.Socket's stream implementation: each call hands bytes to the kernel.
      for (const method of ['_write', '_writev'] as const) {
        const write = socket[method] as (...args: unknown[]) => void;
        Object.assign(socket, { [method]: (...args: unknown[]) => (writes++, write.apply(socket, args)) });
      }
    });
    const live = new LiveStateServer({ routes: [{ topic: 'todo:*', handler: todoHandler }], logger: quietLogger }).attach(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const client = await RawClient.connect(live.url);
    const joinRef = client.join('todo:batched');
    await client.nextEvent('state:change');
    writes = 0;
    const ref = client.ref();
    client.send([joinRef, ref, 'todo:batched', 'lvs_evt:addTodo', { todo: 'in one write' }]);
    const frames = await client.untilReply(ref);
    assert.deepEqual(frames.map(([, , , event]) => event), ['todo-added', 'state:patch', 'phx_reply']);
    assert.equal(writes, 1, 'three frames, one write');
    client.close();
    await live.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  it('rejects invalid routes when it is built', () => {
    const make = (topic: string, extra: object = {}) => () =>
      new LiveStateServer({ routes: [{ topic, handler: todoHandler, ...extra }], logger: quietLogger }).close();
    assert.throws(make('todo:*:x'), /invalid routes\[0\].topic "todo:\*:x": .*"\*" may only end a pattern/);
    assert.throws(make('todo:*', { scope: 'global' }), /invalid routes\[0\].scope "global"/);
    assert.throws(make('todo:*', { maxVersion: 0 }), /invalid routes\[0\].maxVersion: expected a positive integer, got number 0/);
    assert.throws(make('todo:*', { handlerTimeoutMs: 'soon' }), /^TypeError: invalid routes\[0\].handlerTimeoutMs: expected a positive integer, got "soon"$/);
  });

  it('names the option that is missing or wrong when it is built', () => {
    const errors: Array<[unknown, string]> = [
      [undefined, 'invalid LiveStateServer options: expected an object, got undefined'],
      [{}, 'invalid routes (the list of {topic, handler} a LiveStateServer serves): expected an array, got undefined'],
      [{ routes: [{ topic: 'todo:*' }] }, 'invalid routes[0].handler: expected an object, got undefined'],
      [{ routes: [{ topic: 'todo:*', handler: { init: 5 } }] }, 'invalid routes[0].handler.init: expected a function, got number 5'],
      [{ routes: [{ handler: todoHandler }] }, 'invalid routes[0].topic undefined: expected a topic, or a prefix ending in "*" ("*" may only end a pattern)'],
      [{ routes: [], maxFrameBytes: -1 }, 'invalid maxFrameBytes: expected a positive integer, got number -1'],
      [{ routes: [], maxStateBytes: 1.5 }, 'invalid maxStateBytes: expected a positive integer, got number 1.5'],
      [{ routes: [], logger: { info() {} } }, 'invalid logger.warn: expected a function, got undefined'],
      [{ routes: [], connect: true }, 'invalid connect: expected a function, got boolean true'],
    ];
    for (const [options, message] of errors) {
      assert.throws(() => new LiveStateServer(options as any), { name: 'TypeError', message });
    }
  });
});
