// build: original.wasm --portable --max-memory none
// A module in the original experiment's convention: `init` ignores its input, events
// take `[payload, state]` and return the bare state, only standard kernel calls, and
// no declared memory maximum (like the JS-PDK modules of the original). It uses
// @livestate/guest only for its abort handler.
import { Host } from '@extism/as-pdk';
import { JSON } from 'json-as';
import '@livestate/guest/assembly/abort';

@json
class State {
  todos: string[] = [];
}

@json
class AddTodo {
  todo: string = '';
}

export function init(): i32 {
  Host.output(Uint8Array.wrap(String.UTF8.encode('{"todos":[]}')));
  return 0;
}

export function add_todo(): i32 {
  const input = String.UTF8.decode(Host.input().buffer);
  const pair = JSON.parse<JSON.Value[]>(input);
  const payload = JSON.parse<AddTodo>(JSON.stringify(pair[0]));
  const state = JSON.parse<State>(JSON.stringify(pair[1]));
  state.todos.push(payload.todo);
  Host.output(Uint8Array.wrap(String.UTF8.encode(JSON.stringify(state))));
  return 0;
}
