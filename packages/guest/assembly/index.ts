import { JSON } from 'json-as';
import { readInput, writeError, writeOutput } from './io';
import { eventsJson, ReplyEvent } from './reply-event';
import { splitPair } from './split-pair';
export { ReplyEvent } from './reply-event';
export { livestate_resident, loadState, readPayload, commit, respondInitial } from './resident';
export { TrackedObject } from './tracked-object';
export { TrackedValue } from './tracked-value';
export { TrackedList } from './tracked-list';
export { TrackedMap } from './tracked-map';
// Compiled in so that `--use abort=~lib/@livestate/guest/assembly/abort/livestateAbort` finds it.
import './abort';

/**
 * The opt-in to reply events: a module that exports `livestate_envelope` returns
 * `{"state": ..., "events": [...]}` from its event exports instead of the bare state.
 * Re-export it from your handler: `export { livestate_envelope } from '@livestate/guest';`
 */
export function livestate_envelope(): void {}

/** An event as the host passes it to an event export: the payload and the current state. */
export class Event<P, S> {
  constructor(
    public payload: P,
    public state: S,
  ) {}

  /** Reads and parses this call's input, `[payload, state]`. */
  static read<P, S>(): Event<P, S> {
    const input = readInput();
    const comma = splitPair(input);
    return new Event<P, S>(
      JSON.parse<P>(input.slice(1, comma)),
      JSON.parse<S>(input.slice(comma + 1, input.length - 1)),
    );
  }
}

/** The join params given to `init` (an empty object when the host passes nothing). */
export function joinParams<P>(): P {
  const input = readInput();
  return JSON.parse<P>(input.length > 0 ? input : '{}');
}

/** Returns `state` as the new (or initial) state, in the envelope with `events`. Return its result from the export. */
export function respond<S>(state: S, events: ReplyEvent[] = []): i32 {
  writeOutput('{"state":' + JSON.stringify<S>(state) + ',"events":' + eventsJson(events) + '}');
  return 0;
}

/** Returns `state` bare, as modules without the envelope do (and as `init` always does). */
export function respondState<S>(state: S): i32 {
  writeOutput(JSON.stringify<S>(state));
  return 0;
}

/** Fails the event with a message for the client; the state stays as it was. */
export function fail(message: string): i32 {
  writeError(message);
  return 1;
}
