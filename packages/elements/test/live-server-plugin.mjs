// A Web Test Runner plugin that runs a real @livestate/server for the browser tests,
// and lets them ask for its URL, count joins, and stop and restart it (to test
// going offline and coming back). It also runs the scripted server that replays the
// transcripts in fixtures/transcripts/ (frames of other servers, e.g. Elixir's live_state).
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LiveStateServer, SqliteStorage, UserError, defineHandler, reply } from '@livestate/server';
import { startScriptedServer } from './scripted-server.mjs';

const todos = defineHandler({
  init: (_topic, params) => ({ todos: [], ...(params.owner ? { owner: params.owner } : {}) }),
  events: {
    addTodo: ({ todo }, state) => {
      if (typeof todo !== 'string' || todo.trim() === '') throw new UserError('a todo needs some text');
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

/** The original testbed's todo channel: a list of strings, and an add that takes the server 500 ms. */
const slowTodos = defineHandler({
  init: () => ({ todos: [] }),
  events: {
    addTodo: async ({ todo }, state) => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return { todos: [...state.todos, todo] };
    },
  },
});

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
    { topic: 'testbed:*', handler: slowTodos },
    { topic: 'params:*', handler: counted({ init: (_topic, params) => ({ params }) }) },
    { topic: 'private:*', handler: { ...todos, authorize: (_topic, params) => params.token === 'secret' || 'bad token' } },
  ];
}

/**
 * A second LiveState server that also serves the script-tag bundle, as `livestate serve
 * --static` would: a page elsewhere that loads the bundle from it finds its socket from the
 * script's own URL.
 */
async function startBundleServer(routes, logger) {
  const bundle = new URL('../dist/cdn/livestate-elements.iife.js', import.meta.url);
  const http = createServer((request, response) => {
    if (request.url !== '/livestate-elements.iife.js') return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/javascript' });
    createReadStream(bundle).pipe(response);
  });
  const server = new LiveStateServer({ routes, logger }).attach(http);
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${http.address().port}`,
    close: async () => {
      await server.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

export function liveStateServerPlugin() {
  const joins = new Map();
  const logger = { info() {}, warn() {}, error: console.error };
  let server;
  let scripted;
  let bundleServer;
  let port = 0;
  // Restarts keep the states, as `livestate serve` does with its data file.
  const dataDirectory = mkdtempSync(join(tmpdir(), 'livestate-wtr-'));
  const start = async () => {
    server = new LiveStateServer({ routes: routes(joins), logger, storage: new SqliteStorage(join(dataDirectory, 'states.db')) });
    port = (await server.listen({ port })).port;
  };
  const json = (value) => ({ body: JSON.stringify(value), type: 'json' });
  return {
    name: 'livestate-server',
    async serverStart() {
      scripted = await startScriptedServer(new URL('./fixtures/transcripts/', import.meta.url));
      bundleServer = await startBundleServer(routes(new Map()), logger);
      await start();
    },
    async serverStop() {
      await Promise.all([server?.close(), scripted?.close(), bundleServer?.close()]);
      rmSync(dataDirectory, { recursive: true, force: true });
    },
    async serve(context) {
      if (!context.path.startsWith('/__livestate__/')) return undefined;
      const action = context.path.slice('/__livestate__/'.length);
      const { query } = context;
      if (action === 'url') return json({ url: `ws://127.0.0.1:${port}/socket` });
      if (action === 'joins') return json({ joins: joins.get(query.topic) ?? 0 });
      if (action === 'bundle-origin') return json({ origin: bundleServer.origin });
      if (action === 'transcript-url') return json({ url: scripted.url(query.name, query.run) });
      if (action === 'transcript-outcome') return json(await scripted.outcome(query.run));
      if (action === 'stop') await server.close();
      else if (action === 'start') await start();
      else return undefined;
      return json({});
    },
  };
}
