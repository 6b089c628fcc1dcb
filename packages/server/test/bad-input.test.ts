import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { defineHandler, reply, UserError, type LiveStateServer } from '@livestate/server';
import { CaptureLogger } from './support/capture-logger.js';
import { joinChannel, phoenixSocket, RawClient, startServer, withoutEpoch, type Frame } from './support/clients.js';
import { todoHandler } from './support/todo-handler.js';

// Room for a payload nested 100,000 levels deep: 200,000 brackets.
const MAX_FRAME_BYTES = 256 * 1024;
const MAX_STATE_BYTES = 200;
const HANDLER_TIMEOUT_MS = 1000;
const MAX_TOPIC_BYTES = 64;

const circular = (): object => {
  const value: Record<string, unknown> = { name: 'loop' };
  value.self = value;
  return value;
};
/** Arrays nested `levels` deep, built without recursion. */
const nested = (levels: number): object[] => {
  let value: object[] = [];
  for (let level = 1; level < levels; level++) value = [value];
  return value;
};
/** The JSON text of {deep: arrays nested `levels` deep}: a payload nested one level more. */
const deepPayloadText = (levels: number): string => `{"deep":${'['.repeat(levels)}${']'.repeat(levels)}}`;
const DEEP = 'nested more than 512 levels deep';

/** A thrown value whose every way of being described throws. */
const hostile = (): object =>
  new Proxy({}, { get: () => { throw new Error('trap'); }, getPrototypeOf: () => { throw new Error('trap'); }, ownKeys: () => { throw new Error('trap'); } });

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
    functionValue: () => ({ count: 5, callback: (() => 1) as any }),
    badReplyEvent: () => reply({ count: 5 }, { name: '' }),
    bigIntReplyDetail: () => reply({ count: 5 }, { name: 'done', detail: { n: 10n } }),
    circularReplyDetail: () => reply({ count: 5 }, { name: 'done', detail: circular() }),
    userError: () => {
      throw new UserError('count is locked');
    },
    throwsBigInt: () => {
      throw 10n;
    },
    throwsCircular: () => {
      throw circular();
    },
    throwsNullPrototype: () => {
      throw Object.assign(Object.create(null), { code: 7 });
    },
    throwsSymbol: () => {
      throw Symbol('odd');
    },
    throwsHostile: () => {
      throw hostile();
    },
    grow: (payload) => ({ count: 1, padding: 'x'.repeat((payload as { bytes: number }).bytes) }),
    keep: (payload, state) => ({ ...state, kept: payload }),
    circularState: () => ({ count: 5, loop: circular() }),
    nestDeep: (payload) => ({ count: 5, deep: nested((payload as { levels: number }).levels) }),
    deepReplyDetail: (payload) => reply({ count: 5 }, { name: 'done', detail: nested((payload as { levels: number }).levels) }),
    neverSettles: () => new Promise<never>(() => undefined),
    /** Holds the topic until the test calls `releaseHold`. */
    hold: () => new Promise<{ count: number }>((resolve) => (releaseHold = () => resolve({ count: 2 }))),
  },
});
let releaseHold = (): void => undefined;

describe('bad input: a precise error for the sender, nothing lost, nothing else disturbed', () => {
  let server: LiveStateServer;
  let offender: RawClient;
  let bystander: RawClient;
  let offenderJoin: string;
  let bystanderJoin: string;
  let topic: string;
  let topicCount = 0;
  const logger = new CaptureLogger();

  before(async () => {
    server = await startServer({
      maxFrameBytes: MAX_FRAME_BYTES,
      maxTopicBytes: MAX_TOPIC_BYTES,
      logger,
      routes: [
        { topic: 'counter:*', handler: misbehaving, scope: 'topic', maxStateBytes: MAX_STATE_BYTES, handlerTimeoutMs: HANDLER_TIMEOUT_MS },
        { topic: 'todo:*', handler: todoHandler },
        { topic: 'busy:*', handler: misbehaving, scope: 'topic' },
        { topic: 'deep:*', handler: defineHandler({ init: (_topic, params) => ({ deep: nested(params.levels as number) }), events: {} }) },
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

  it('refuses a join of a topic longer than maxTopicBytes, counted in UTF-8 bytes, and logs it', async () => {
    const atLimit = `counter:${'é'.repeat((MAX_TOPIC_BYTES - 'counter:'.length) / 2)}`;
    const refused = offender.join(`${atLimit}x`);
    const reason = `topic too long: ${MAX_TOPIC_BYTES + 1} bytes, over the limit of ${MAX_TOPIC_BYTES} bytes (maxTopicBytes)`;
    assert.deepEqual((await offender.nextReply(refused))[4], { status: 'error', response: { reason } });
    assert.match(await logger.waitFor(/refused: topic too long/), new RegExp(`^warn socket \\d+: join of "counter:é+x" refused: ${reason.replace(/[()]/g, '\\$&')}$`));
    const accepted = offender.join(atLimit);
    assert.equal((await offender.nextReply(accepted))[4].status, 'ok', 'a topic of exactly maxTopicBytes joins');
    await offender.nextEvent('state:change', atLimit);
    await assertUndisturbed();
  });

  it('refuses the phoenix client\'s join of a topic longer than maxTopicBytes with the reason', async () => {
    const socket = phoenixSocket(server.url);
    const topic = `counter:${'x'.repeat(MAX_TOPIC_BYTES)}`;
    await assert.rejects(joinChannel(socket.channel(topic)), (error: { reason: unknown }) => {
      assert.deepEqual(error.reason, { reason: `topic too long: ${topic.length} bytes, over the limit of ${MAX_TOPIC_BYTES} bytes (maxTopicBytes)` });
      return true;
    });
    socket.disconnect();
    assert.match(await logger.waitFor(/refused: topic too long: 72 bytes/), /join of "counter:x{56}"\.\.\. refused/, 'a long topic is logged cut short');
    await assertUndisturbed();
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

  const stateTooLarge = (bytes: number) =>
    `the state the handler for "grow" returned is ${bytes} bytes of JSON, over the limit of ${MAX_STATE_BYTES} bytes (maxStateBytes)`;
  /** [event, payload, what the client is told, the log line]: the server's own refusals and a UserError verbatim, a warning logged. */
  const refusals: Array<[string, object, string | RegExp]> = [
    ['nonsense', {}, 'unknown event "nonsense"'],
    ['returnsNumber', {}, 'handler for "returnsNumber" returned number, expected an object'],
    ['returnsArray', {}, 'handler for "returnsArray" returned an array, expected an object'],
    ['returnsNull', {}, 'handler for "returnsNull" returned null, expected an object'],
    ['unserializable', {}, 'the state the handler for "unserializable" returned cannot be encoded as JSON: Do not know how to serialize a BigInt'],
    ['functionValue', {}, 'the state the handler for "functionValue" returned cannot be encoded as JSON: a function is not a JSON value'],
    ['badReplyEvent', {}, 'a reply event must be an object with a non-empty string "name"'],
    ['bigIntReplyDetail', {}, 'the detail of reply event "done" cannot be encoded as JSON: Do not know how to serialize a BigInt'],
    ['circularReplyDetail', {}, /^the detail of reply event "done" cannot be encoded as JSON: Converting circular structure to JSON/],
    ['userError', {}, 'count is locked'],
    ['circularState', {}, /^the state the handler for "circularState" returned cannot be encoded as JSON: Converting circular structure to JSON/],
    ['nestDeep', { levels: 100_000 }, `the state the handler for "nestDeep" returned is ${DEEP}`],
    ['deepReplyDetail', { levels: 100_000 }, `the detail of reply event "done" is ${DEEP}`],
    // {"count":1,"padding":""} is 24 bytes
    ['grow', { bytes: MAX_STATE_BYTES - 24 + 1 }, stateTooLarge(MAX_STATE_BYTES + 1)],
    ['neverSettles', {}, `the handler for "neverSettles" timed out: it did not finish within ${HANDLER_TIMEOUT_MS} ms`],
  ];
  /** [event, what the log says it threw]: unexpected exceptions; the client is told only "internal error in handler". */
  const exceptions: Array<[string, RegExp]> = [
    ['mutates', /Cannot assign to read only property 'count'[^]*\n {4}at /],
    ['throwsString', /plain string failure/],
    ['rejects', /async failure\nError: async failure\n {4}at /],
    ['throwsBigInt', /: 10n$/],
    ['throwsCircular', /<ref \*1> \{ name: 'loop', self: \[Circular \*1\] \}/],
    ['throwsNullPrototype', /\[Object: null prototype\] \{ code: 7 \}/],
    ['throwsSymbol', /Symbol\(odd\)/],
    ['throwsHostile', /a thrown value that cannot be described/],
  ];

  async function sendFailing(event: string, payload: object): Promise<string> {
    offender.send([offenderJoin, offender.ref(), topic, `lvs_evt:${event}`, payload]);
    const [joinRef, ref, errorTopic, , error] = await offender.nextEvent('error');
    assert.deepEqual([joinRef, ref, errorTopic, error.event], [offenderJoin, null, topic, event]);
    return error.message;
  }

  for (const [event, payload, message] of refusals) {
    it(`pushes "error" to the sender, and changes nothing, when the server refuses "${event}"`, async () => {
      const received = await sendFailing(event, payload);
      if (typeof message === 'string') assert.equal(received, message);
      else assert.match(received, message);
      const line = await logger.waitFor(new RegExp(`^warn handler failed: topic "${topic}", event "${event}": `));
      assert.equal(line, `warn handler failed: topic "${topic}", event "${event}": ${received}`);
      await assertUndisturbed();
    });
  }

  for (const [event, logged] of exceptions) {
    it(`tells the sender only "internal error in handler", and logs the details, when "${event}" throws`, async () => {
      assert.equal(await sendFailing(event, {}), 'internal error in handler');
      assert.match(await logger.waitFor(new RegExp(`^error handler threw: topic "${topic}", event "${event}": `)), logged);
      await assertUndisturbed();
    });
  }

  it('refuses a payload nested 100,000 levels deep with a precise reply, before any handler sees it', async () => {
    const reason = `the payload is ${DEEP}`;
    offender.sendText(`[${JSON.stringify(offenderJoin)},"95",${JSON.stringify(topic)},"lvs_evt:keep",${deepPayloadText(100_000)}]`);
    assert.deepEqual((await offender.nextReply('95'))[4], { status: 'error', response: { reason } });
    offender.sendText(`["96","96","counter:deep","phx_join",${deepPayloadText(100_000)}]`);
    assert.deepEqual((await offender.nextReply('96'))[4], { status: 'error', response: { reason } });
    offender.sendText(`[${JSON.stringify(offenderJoin)},"98",${JSON.stringify(topic)},"lvs_evt:keep",${deepPayloadText(100_000).replace('"deep"', '"__proto__"')}]`);
    assert.deepEqual((await offender.nextReply('98'))[4], { status: 'error', response: { reason } }, 'under an odd key too');
    await assertUndisturbed();
  });

  it('takes a payload nested 512 levels deep (not 513), and refuses a state that nests it one level more', async () => {
    offender.sendText(`[${JSON.stringify(offenderJoin)},"97",${JSON.stringify(topic)},"lvs_evt:keep",${deepPayloadText(512)}]`);
    assert.equal((await offender.nextReply('97'))[4].response.reason, `the payload is ${DEEP}`);
    assert.equal(await sendFailing('keep', { deep: nested(511) }), `the state the handler for "keep" returned is ${DEEP}`);
    await assertUndisturbed();
  });

  it('refuses the phoenix client\'s deeply nested push and join with the reason', async () => {
    const socket = phoenixSocket(server.url);
    const channel = socket.channel(topic);
    await joinChannel(channel);
    const reply = await new Promise((resolve) => channel.push('lvs_evt:keep', { deep: nested(1_000) }).receive('error', resolve));
    assert.deepEqual(reply, { reason: `the payload is ${DEEP}` });
    await assert.rejects(joinChannel(socket.channel('counter:deep', { deep: nested(1_000) })), (error: { reason: unknown }) => {
      assert.deepEqual(error.reason, { reason: `the payload is ${DEEP}` });
      return true;
    });
    socket.disconnect();
    await assertUndisturbed();
  });

  it('pushes a precise error when init returns a state nested too deep', async () => {
    offender.join('deep:1', { levels: 100_000 });
    assert.deepEqual((await offender.nextEvent('error', 'deep:1'))[4], { message: `the state init returned is ${DEEP}` });
    offender.join('deep:2', { levels: 1_000 });
    assert.deepEqual((await offender.nextEvent('error', 'deep:2'))[4], { message: `the state init returned is ${DEEP}` });
    await assertUndisturbed();
  });

  it('accepts a state of exactly maxStateBytes', async () => {
    offender.send([offenderJoin, offender.ref(), topic, 'lvs_evt:grow', { bytes: MAX_STATE_BYTES - 24 }]);
    const [, , , , { version }] = await offender.nextEvent('state:patch');
    assert.equal(version, 2);
  });

  it('gives a late joiner the state while an event that never settles holds the topic, then carries on', async () => {
    offender.send([offenderJoin, offender.ref(), topic, 'lvs_evt:neverSettles', {}]);
    const late = await RawClient.connect(server.url);
    late.join(topic);
    const [, , , , change] = await late.nextEvent('state:change');
    assert.deepEqual(withoutEpoch(change), { state: { count: 1 }, version: 1 });
    assert.match((await offender.nextEvent('error'))[4].message, /timed out/);
    late.close();
    await assertUndisturbed();
  });

  it('answers a burst of lvs_refresh queued behind a busy topic with one state:change', async () => {
    const client = await RawClient.connect(server.url);
    const join = client.join('busy:1');
    await client.nextEvent('state:change');
    client.send([join, client.ref(), 'busy:1', 'lvs_evt:hold', {}]);
    for (let i = 0; i < 200; i++) client.send([join, client.ref(), 'busy:1', 'lvs_refresh', {}]);
    await client.drain();
    releaseHold();
    const last = client.ref();
    client.send([join, last, 'busy:1', 'lvs_evt:increment', {}]);
    const frames = await client.untilReply(last);
    const changes = frames.filter((frame) => frame[3] === 'state:change').map((frame) => withoutEpoch(frame[4]));
    assert.deepEqual(changes, [{ state: { count: 2 }, version: 1 }], 'one whole state, after the event that held the topic');
    assert.deepEqual(frames.filter((frame) => frame[3] === 'state:patch').map((frame) => frame[4].version), [1, 2]);
    client.send([join, client.ref(), 'busy:1', 'lvs_refresh', {}]);
    const [, , , , change] = await client.nextEvent('state:change');
    assert.deepEqual(withoutEpoch(change), { state: { count: 3 }, version: 2 }, 'a later refresh is answered again');
    client.close();
  });
});
