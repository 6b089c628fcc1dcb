// build: stray-envelope.wasm
// A module that returns {"state": ..., "events": [...]} without exporting
// `livestate_envelope`: the whole object becomes the state, as it always did, and the
// server warns once.
import { Event, respondState } from '@livestate/guest';
import { writeOutput } from '@livestate/guest/assembly/io';

@json
class Empty {}

@json
class Counter {
  count: i32 = 0;
}

export function init(): i32 {
  return respondState(new Counter());
}

export function bump(): i32 {
  Event.read<Empty, Empty>();
  writeOutput('{"state":{"count":1},"events":[{"name":"bumped","detail":{}}]}');
  return 0;
}
