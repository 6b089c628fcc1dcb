import { defineHandler, reply, UserError, type State } from '@livestate/server';

export interface Todo {
  [key: string]: string | number | boolean;
  id: number;
  text: string;
  done: boolean;
}

export interface TodoState extends State {
  todos: Todo[];
  nextId: number;
}

/** The todo handler in plain JavaScript: a real handler for the tests to drive. */
export const todoHandler = defineHandler<TodoState>({
  init: (_topic, params) => ({
    todos: [],
    nextId: 1,
    ...(typeof params.owner === 'string' ? { owner: params.owner } : {}),
  }),
  events: {
    addTodo({ todo }, state) {
      if (typeof todo !== 'string' || todo.trim() === '') throw new UserError('a todo needs some text');
      const added = { id: state.nextId, text: todo, done: false };
      return reply(
        { ...state, todos: [...state.todos, added], nextId: state.nextId + 1 },
        { name: 'todo-added', detail: { id: added.id } },
      );
    },
    toggleTodo({ id }, state) {
      return { ...state, todos: state.todos.map((t) => (t.id === id ? { ...t, done: !t.done } : t)) };
    },
    removeTodo({ id }, state) {
      return { ...state, todos: state.todos.filter((t) => t.id !== id) };
    },
  },
});
