import { JSON } from 'json-as';
import { readInput, writeError, writeOutput } from './io';
import { splitPair } from './split-pair';
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

/** A push sent to the client before the state update; clients dispatch it as a DOM event. */
export class ReplyEvent {
  constructor(
    public name: string,
    /** The detail as JSON text. */
    public detailJson: string,
  ) {}

  static of<D>(name: string, detail: D): ReplyEvent {
    return new ReplyEvent(name, JSON.stringify<D>(detail));
  }
}

/** Returns `state` as the new (or initial) state, in the envelope with `events`. Return its result from the export. */
export function respond<S>(state: S, events: ReplyEvent[] = []): i32 {
  let json = '{"state":' + JSON.stringify<S>(state) + ',"events":[';
  for (let i = 0; i < events.length; i++) {
    if (i > 0) json += ',';
    json += '{"name":' + JSON.stringify<string>(events[i].name) + ',"detail":' + events[i].detailJson + '}';
  }
  writeOutput(json + ']}');
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
