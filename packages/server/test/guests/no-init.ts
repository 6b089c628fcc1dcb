// build: no-init.wasm
// A module that forgets `init`: every join fails, and the server warns when it loads it.
import { Event, respondState } from '@livestate/guest';

@json
class Empty {}

export function touch(): i32 {
  return respondState(Event.read<Empty, Empty>().state);
}
