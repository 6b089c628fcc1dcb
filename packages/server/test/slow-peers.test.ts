import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineHandler, LiveStateServer } from '@livestate/server';
import { CaptureLogger } from './support/capture-logger.js';
import { quietLogger, RawClient, sendAndWaitForClose } from './support/clients.js';

const PATCH_BYTES = 256 * 1024;
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Far more than loopback's socket buffers hold, so without a limit the server buffers it all. */
const MAX_EVENTS = 400;

const blob = defineHandler({
  init: () => ({ blob: '', count: 0 }),
  events: {
    grow: ({ fill }, state) => ({ blob: String(fill).repeat(PATCH_BYTES), count: (state.count as number) + 1 }),
  },
});

const whoAmI = defineHandler({ init: (_topic, _params, socket) => ({ id: socket.id }), events: {} });

describe('slow peers', () => {
  it('closes a socket that stops reading while its topic broadcasts, and no one else notices', async () => {
    const logger = new CaptureLogger();
    const server = new LiveStateServer({
      routes: [
        { topic: 'blob', handler: blob, scope: 'topic' },
        { topic: 'me', handler: whoAmI },
      ],
      maxBufferedBytes: MAX_BUFFERED_BYTES,
      logger,
    });
    await server.listen({ port: 0 });
    const reader = await RawClient.connect(server.url);
    const stalled = await RawClient.connect(server.url);
    stalled.join('me');
    const [, , , , { state: who }] = await stalled.nextEvent('state:change');
    const readerJoin = reader.join('blob');
    await reader.nextEvent('state:change');
    stalled.join('blob');
    await stalled.nextEvent('state:change', 'blob');
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();

    let closed: string | undefined;
    for (let version = 1; version <= MAX_EVENTS && !closed; version++) {
      reader.send([readerJoin, reader.ref(), 'blob', 'lvs_evt:grow', { fill: version % 10 }]);
      const [, , , , patch] = await reader.nextEvent('state:patch');
      assert.equal(patch.version, version, 'the reader gets every patch, in order');
      closed = logger.lines.find((line) => line.includes(`socket ${who.id} `));
    }
    assert.ok(closed, `the stalled socket was closed within ${MAX_EVENTS} patches of ${PATCH_BYTES} bytes`);
    assert.match(closed, /^warn socket \d+ closed: .* MiB waiting to be sent, over the limit of 1 MiB/);

    reader.send([readerJoin, reader.ref(), 'blob', 'lvs_evt:grow', { fill: 'x' }]);
    const [, , , , { patch }] = await reader.nextEvent('state:patch');
    assert.equal(patch[0].value.length, PATCH_BYTES, 'the topic carries on');
    reader.close();
    await server.close();
  });

  it('closes a connection that sends half a request to the server listen() starts', async () => {
    const server = new LiveStateServer({ routes: [{ topic: 'me', handler: whoAmI }], logger: quietLogger });
    const { port } = await server.listen({ port: 0, requestTimeoutMs: 200 });
    const answer = await sendAndWaitForClose(port, 'GET /socket/websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    assert.match(answer, /^HTTP\/1\.1 408 /);
    await server.close();
  });
});
