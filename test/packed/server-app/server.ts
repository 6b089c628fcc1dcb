// A server-only app: no DOM lib, an interface for the state, typed payloads.
import { LiveStateServer, defineHandler, reply, wasmHandler, type LiveStateHandler } from '@livestate/server';

interface Todo {
  id: number;
  text: string;
  done?: boolean;
}
interface Todos {
  todos: Todo[];
  nextId: number;
}

const todos = defineHandler<Todos, { addTodo: { text: string }; clear: {} }>({
  init: () => ({ todos: [], nextId: 1 }),
  events: {
    addTodo: ({ text }, state) =>
      reply(
        { ...state, todos: [...state.todos, { id: state.nextId, text }], nextId: state.nextId + 1 },
        { name: 'todo-added', detail: { text } },
      ),
    clear: (_payload, state) => ({ ...state, todos: [] }),
  },
});

const counter = defineHandler({
  init: () => ({ count: 0 }),
  events: { increment: (payload: { by: number }, state) => ({ count: state.count + payload.by }) },
});

// @ts-expect-error a Date is not JSON
export const notJson: LiveStateHandler<{ when: Date }> | undefined = undefined;

// @ts-expect-error every event of the payload map needs a function
defineHandler<Todos, { addTodo: { text: string } }>({ init: () => ({ todos: [], nextId: 1 }), events: {} });

const server = new LiveStateServer({
  routes: [
    { topic: 'todo:*', handler: todos, scope: 'topic' },
    { topic: 'counter:*', handler: counter },
    { topic: 'wasm:*', handler: await wasmHandler('handler.wasm') },
  ],
});
await server.listen({ port: 0 });
console.log(server.url);
