// A handler as a user writes one: compiled by the installed livestate-guest.
import { JSON } from 'json-as';
import { Event, ReplyEvent, fail, respond, respondState } from '@livestate/guest';
export { livestate_envelope } from '@livestate/guest';

@json class State { todos: string[] = []; }
@json class AddTodo { todo: string = ''; }
@json class Added { count: i32 = 0; }

export function init(): i32 {
  return respondState(new State());
}

export function addTodo(): i32 {
  const event = Event.read<AddTodo, State>();
  if (event.payload.todo.length == 0) return fail('a todo needs some text');
  event.state.todos.push(event.payload.todo);
  const added = new Added();
  added.count = event.state.todos.length;
  return respond(event.state, [ReplyEvent.of<Added>('todo-added', added)]);
}
