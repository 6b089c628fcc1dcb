/** Defines `<todo-list>` and `<todo-form>`: the entry of the app and of the script-tag bundle. */
export { TodoList } from './todo-list.js';
export { TodoForm } from './todo-form.js';
