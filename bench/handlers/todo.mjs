// The benchmarks' todo handler in JavaScript: the twin of handlers/todo.ts.
import { defineHandler, reply } from '@livestate/server';

export const todoHandler = defineHandler({
  init: (_topic, { prefill = 0, limit = 0 }) => {
    const count = Number(prefill);
    return {
      todos: Array.from({ length: count }, (_, i) => ({ id: i + 1, text: `todo number ${i + 1}`, done: false })),
      nextId: count + 1,
      limit: Number(limit),
    };
  },
  events: {
    addTodo: ({ todo }, state) => {
      if (typeof todo !== 'string' || todo.trim() === '') throw new Error('a todo needs some text');
      const added = { id: state.nextId, text: todo, done: false };
      const todos = [...state.todos, added];
      if (state.limit > 0 && todos.length > state.limit) todos.shift();
      return reply({ ...state, todos, nextId: state.nextId + 1 }, { name: 'todo-added', detail: { id: added.id } });
    },
  },
});
