// The adapter that turns a handler module into the livestate:handler world's exports. It is
// the code the build bundles into every component; here it runs in Node on the same inputs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { handlerWorld } from '../dist/adapter.js';
import { defineHandler, reply } from '@livestate/guest-js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (value) => encoder.encode(JSON.stringify(value));
const json = (data) => JSON.parse(decoder.decode(data));

/** What a caller of the component sees: the ok value, or the `err` payload it threw. */
function outcome(call) {
  try {
    return { ok: call() };
  } catch (error) {
    return { err: error };
  }
}

const counter = defineHandler({
  init: ({ start = 0 }) => ({ count: start }),
  events: {
    increment: ({ by = 1 }, state) => reply({ ...state, count: state.count + by }, { name: 'counted', detail: { by } }),
    reset: () => ({ count: 0 }),
  },
});

describe('handlerWorld', () => {
  it('takes a defineHandler default export: init, events, reply events as JSON bytes', () => {
    const world = handlerWorld({ default: counter });
    assert.deepEqual(world.events(), ['increment', 'reset']);
    assert.deepEqual(json(world.init(bytes({ start: 5 }))), { count: 5 });
    const update = world.handleEvent('increment', bytes({ by: 2 }), bytes({ count: 5 }));
    assert.deepEqual(json(update.state), { count: 7 });
    assert.deepEqual(update.events.map((event) => [event.name, json(event.detail)]), [['counted', { by: 2 }]]);
    const plain = world.handleEvent('reset', bytes(null), bytes({ count: 7 }));
    assert.deepEqual([json(plain.state), plain.events], [{ count: 0 }, []]);
  });

  it('takes named exports: init and every other function is an event; no init starts from {}', () => {
    const world = handlerWorld({ init: () => ({ todos: [] }), addTodo: ({ todo }, state) => ({ todos: [...state.todos, todo] }), VERSION: 2 });
    assert.deepEqual(world.events(), ['addTodo']);
    assert.deepEqual(json(world.handleEvent('addTodo', bytes({ todo: 'x' }), bytes({ todos: [] })).state), { todos: ['x'] });
    assert.deepEqual(json(handlerWorld({ ping: (_payload, state) => state }).init(bytes({}))), {});
  });

  it('fails with the message thrown, an unknown event, or a promise, as the world variant says', () => {
    const world = handlerWorld({
      init: () => {
        throw new Error('members only');
      },
      refuse: () => {
        throw new Error('A todo needs some text.');
      },
      throwString: () => {
        throw 'plain text';
      },
      later: async (_payload, state) => state,
    });
    assert.deepEqual(outcome(() => world.init(bytes({}))), { err: 'members only' });
    assert.deepEqual(outcome(() => world.handleEvent('refuse', bytes({}), bytes({}))), { err: { tag: 'message', val: 'A todo needs some text.' } });
    assert.deepEqual(outcome(() => world.handleEvent('throwString', bytes({}), bytes({}))), { err: { tag: 'message', val: 'plain text' } });
    assert.deepEqual(outcome(() => world.handleEvent('nope', bytes({}), bytes({}))), { err: { tag: 'unknown-event' } });
    assert.deepEqual(outcome(() => world.handleEvent('toString', bytes({}), bytes({}))), { err: { tag: 'unknown-event' } }, 'inherited names are not events');
    assert.deepEqual(outcome(() => world.handleEvent('later', bytes({}), bytes({}))), {
      err: { tag: 'message', val: 'later returned a promise; handlers in a component must be synchronous' },
    });
  });
});
