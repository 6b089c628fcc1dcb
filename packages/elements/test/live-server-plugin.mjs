// A Web Test Runner plugin that runs a real @livestate/server for the browser tests,
// and lets them ask for its URL, count joins, and stop and restart it (to test
// going offline and coming back).
import { LiveStateServer, defineHandler, reply } from '@livestate/server';

const todos = defineHandler({
  init: (_topic, params) => ({ todos: [], ...(params.owner ? { owner: params.owner } : {}) }),
  events: {
    addTodo: ({ todo }, state) => {
      if (typeof todo !== 'string' || todo.trim() === '') throw new Error('a todo needs some text');
      const added = { text: todo, done: false };
      return reply({ ...state, todos: [...state.todos, added] }, { name: 'todo-added', detail: added });
    },
  },
});

/** Answers any event with a `received` event carrying its name and payload. */
const echo = {
  init: () => ({ count: 0, nested: { deep: { value: 'found' } }, label: 'echo' }),
  handleEvent: (name, payload, state) =>
    reply({ ...state, count: state.count + 1, last: { name, payload } }, { name: 'received', detail: { name, payload } }),
};

function routes(joins) {
  const counted = (handler) => ({
    ...handler,
    authorize: (topic) => {
      joins.set(topic, (joins.get(topic) ?? 0) + 1);
      return true;
    },
  });
  return [
    { topic: 'todo:*', handler: counted(todos), scope: 'topic' },
    { topic: 'wrap:*', handler: todos, maxVersion: 2 },
    { topic: 'echo:*', handler: counted(echo) },
    { topic: 'private:*', handler: { ...todos, authorize: (_topic, params) => params.token === 'secret' || 'bad token' } },
  ];
}

export function liveStateServerPlugin() {
  const joins = new Map();
  let server;
  let port = 0;
  const start = async () => {
    server = new LiveStateServer({ routes: routes(joins), logger: { info() {}, warn() {}, error: console.error } });
    port = (await server.listen({ port })).port;
  };
  return {
    name: 'livestate-server',
    serverStart: start,
    serverStop: () => server?.close(),
    async serve(context) {
      if (!context.path.startsWith('/__livestate__/')) return undefined;
      const action = context.path.slice('/__livestate__/'.length);
      if (action === 'url') return { body: JSON.stringify({ url: `ws://127.0.0.1:${port}/socket` }), type: 'json' };
      if (action === 'joins') return { body: JSON.stringify({ joins: joins.get(context.query.topic) ?? 0 }), type: 'json' };
      if (action === 'stop') await server.close();
      else if (action === 'start') await start();
      else return undefined;
      return { body: '{}', type: 'json' };
    },
  };
}
