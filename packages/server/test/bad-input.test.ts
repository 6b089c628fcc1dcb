import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { defineHandler, reply, type LiveStateServer } from '@livestate/server';
import { RawClient, startServer, withoutEpoch, type Frame } from './support/clients.js';
import { todoHandler } from './support/todo-handler.js';

const MAX_FRAME_BYTES = 4096;

const misbehaving = defineHandler({
  init: () => ({ count: 0 }),
  events: {
    increment: (_payload, state) => ({ count: (state.count as number) + 1 }),
    returnsNumber: () => 42 as any,
    returnsArray: () => [1, 2] as any,
    returnsNull: () => null as any,
    mutates: (_payload, state) => {
      (state as any).count = 99;
      return state;
    },
    throwsString: () => {
      throw 'plain string failure';
    },
    rejects: async () => {
      throw new Error('async failure');
    },
    unserializable: () => ({ count: 10n as any }),
    badReplyEvent: () => reply({ count: 5 }, { name: '' }),
  },
});

describe('bad input: a precise error for the sender, nothing lost, nothing else disturbed', () => {
  let server: LiveStateServer;
  let offender: RawClient;
  let bystander: RawClient;
  let offenderJoin: string;
  let bystanderJoin: string;
  let topic: string;
  let topicCount = 0;

  before(async () => {
    server = await startServer({
      maxFrameBytes: MAX_FRAME_BYTES,
      routes: [
        { topic: 'counter:*', handler: misbehaving, scope: 'topic' },
        { topic: 'todo:*', handler: todoHandler },
      ],
    });
  });
  after(() => server.close());

  /** Two clients on one shared topic, state {count: 1} at version 1. */
  beforeEach(async () => {
    topic = `counter:${++topicCount}`;
    offender = await RawClient.connect(server.url);
    bystander = await RawClient.connect(server.url);
    offenderJoin = offender.join(topic);
    await offender.nextEvent('state:change');
    bystanderJoin = bystander.join(topic);
    await bystander.nextEvent('state:change');
    offender.send([offenderJoin, offender.ref(), topic, 'lvs_evt:increment', {}]);
    await offender.nextEvent('state:patch');
    await bystander.nextEvent('state:patch');
  });

  /** The offender still works, the bystander saw nothing of it, and the state is as it was. */
  async function assertUndisturbed(options: { offenderOpen?: boolean } = {}): Promise<void> {
    assert.deepEqual(await bystander.drain(), [], 'the bystander received nothing');
    const refresh = bystander.ref();
    bystander.send([bystanderJoin, refresh, topic, 'lvs_refresh', {}]);
    const [, , , , change] = await bystander.nextEvent('state:change');
    assert.deepEqual(withoutEpoch(change), { state: { count: 1 }, version: 1 }, 'the state is unchanged');
    bystander.send([bystanderJoin, bystander.ref(), topic, 'lvs_evt:increment', {}]);
    const [, , , , { version }] = await bystander.nextEvent('state:patch');
    assert.equal(version, 2, 'the bystander can still send events');
    if (options.offenderOpen !== false) {
      const [, , , , patch] = await offender.nextEvent('state:patch');
      assert.equal(patch.version, 2, 'the offender is still a member');
    }
    offender.close();
    bystander.close();
  }

  const nextError = async (client: RawClient): Promise<Frame> => client.nextEvent('phx_error');

  it('answers a frame that is not JSON with phx_error and keeps the socket', async () => {
    offender.sendText('{"oops');
    assert.deepEqual(await nextError(offender), [null, null, 'phoenix', 'phx_error', { reason: 'malformed frame: not JSON' }]);
    await assertUndisturbed();
  });

  it('answers a frame that is not a 5-element array', async () => {
    offender.sendText('[1,2,3]');
    const [, , , , { reason }] = await nextError(offender);
    assert.equal(reason, 'malformed frame: expected [join_ref, ref, topic, event, payload], got an array of 3');
    offender.sendText('{"topic":"x"}');
    assert.match((await nextError(offender))[4].reason, /got object$/);
    await assertUndisturbed();
  });

  it('replies to a push with wrong types with an error naming the field', async () => {
    offender.sendText(JSON.stringify([offenderJoin, '77', topic, 'lvs_evt:increment', 'not an object']));
    assert.deepEqual(await offender.nextReply('77'), [
      null,
      '77',
      topic,
      'phx_reply',
      { status: 'error', response: { reason: 'malformed frame: payload must be an object, got string' } },
    ]);
    offender.sendText(JSON.stringify([offenderJoin, '78', 5, 'lvs_evt:increment', {}]));
    const [, , , , reply] = await offender.nextReply('78');
    assert.equal(reply.response.reason, 'malformed frame: topic must be a non-empty string, got number');
    offender.sendText(JSON.stringify([7, '79', topic, 'lvs_evt:increment', {}]));
    assert.match((await offender.nextReply('79'))[4].response.reason, /join_ref must be a string or null, got number/);
    await assertUndisturbed();
  });

  it('answers a binary frame with phx_error', async () => {
    offender.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.match((await nextError(offender))[4].reason, /binary frames are not supported/);
    await assertUndisturbed();
  });

  it('closes a socket that sends a frame over the size limit with code 1009', async () => {
    offender.send([offenderJoin, offender.ref(), topic, 'lvs_evt:increment', { padding: 'x'.repeat(MAX_FRAME_BYTES) }]);
    const { code } = await offender.closedWith();
    assert.equal(code, 1009);
    await assertUndisturbed({ offenderOpen: false });
  });

  it('replies "unmatched topic" to an event for a topic the socket has not joined', async () => {
    offender.send([null, '90', 'counter:elsewhere', 'lvs_evt:increment', {}]);
    assert.deepEqual((await offender.nextReply('90'))[4], { status: 'error', response: { reason: 'unmatched topic' } });
    await assertUndisturbed();
  });

  it('replies with an error to a channel event that is not a LiveState event', async () => {
    offender.send([offenderJoin, '91', topic, 'increment', {}]);
    assert.deepEqual((await offender.nextReply('91'))[4], { status: 'error', response: { reason: 'unknown event "increment"' } });
    offender.send([null, '92', 'phoenix', 'shout', {}]);
    assert.match((await offender.nextReply('92'))[4].response.reason, /unknown event "shout" on the phoenix topic/);
    await assertUndisturbed();
  });

  const handlerFailures: Array<[string, string | RegExp]> = [
    ['nonsense', 'unknown event "nonsense"'],
    ['returnsNumber', 'handler for "returnsNumber" returned number, expected an object'],
    ['returnsArray', 'handler for "returnsArray" returned an array, expected an object'],
    ['returnsNull', 'handler for "returnsNull" returned null, expected an object'],
    ['mutates', /Cannot assign to read only property 'count'/],
    ['throwsString', 'plain string failure'],
    ['rejects', 'async failure'],
    ['unserializable', /BigInt/],
    ['badReplyEvent', 'a reply event must be an object with a non-empty string "name"'],
  ];
  for (const [event, message] of handlerFailures) {
    it(`pushes "error" to the sender when the handler fails on "${event}"`, async () => {
      offender.send([offenderJoin, offender.ref(), topic, `lvs_evt:${event}`, {}]);
      const [joinRef, ref, errorTopic, , payload] = await offender.nextEvent('error');
      assert.deepEqual([joinRef, ref, errorTopic, payload.event], [offenderJoin, null, topic, event]);
      if (typeof message === 'string') assert.equal(payload.message, message);
      else assert.match(payload.message, message);
      await assertUndisturbed();
    });
  }
});
