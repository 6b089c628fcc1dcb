// build: leaky.wasm
// A guest that keeps the last payload's secret between calls, in a global and in an
// Extism var, and returns what the previous call left there: what one user's call
// could leak to another's if instances were shared as they are.
import { Var } from '@extism/as-pdk';
import { Event, respondState } from '@livestate/guest';

@json
class Secret {
  secret: string = '';
}

@json
class Seen {
  previous: string = '';
}

let lastSecret: string = '';

export function init(): i32 {
  return respondState(new Seen());
}

export function rememberInGlobal(): i32 {
  const event = Event.read<Secret, Seen>();
  event.state.previous = lastSecret;
  lastSecret = event.payload.secret;
  return respondState(event.state);
}

export function rememberInVar(): i32 {
  const event = Event.read<Secret, Seen>();
  const previous = Var.getString('secret');
  event.state.previous = previous !== null ? previous : '';
  Var.set('secret', Uint8Array.wrap(String.UTF8.encode(event.payload.secret)));
  return respondState(event.state);
}
