import { JSON } from 'json-as';
import { changes } from './change-log';
import { readInput, writeOutput } from './io';
import { eventsJson, ReplyEvent } from './reply-event';
import { TrackedObject } from './tracked-object';

/*
 * Resident state: the module keeps one state in its memory between calls (the host gives
 * each topic its own instance), receives only each event's payload, and returns the JSON
 * Patch of what it changed, which its tracked members recorded as they changed.
 */

/**
 * The opt-in to resident state. Re-export it from your handler:
 * `export { livestate_resident } from '@livestate/guest';`
 */
export function livestate_resident(): void {}

/**
 * Makes the state JSON the host passes to `livestate_load` the resident `state`. Export
 * `livestate_load` from your handler and return this from it.
 */
export function loadState(state: TrackedObject): i32 {
  state.load(readInput());
  changes.clear();
  changes.recording = true;
  return 0;
}

/** The payload of this event, parsed from the call's input. */
export function readPayload<P>(): P {
  return JSON.parse<P>(readInput());
}

/** Returns the changes made to the resident state in this event as a patch, with reply `events`. Return its result from the export. */
export function commit(events: ReplyEvent[] = []): i32 {
  writeOutput('{"patch":' + changes.take() + ',"events":' + eventsJson(events) + '}');
  return 0;
}

/** Returns `state` as a whole, as `init` does: the initial state, which the host then loads. */
export function respondInitial(state: TrackedObject): i32 {
  changes.clear();
  writeOutput(state.toJson());
  return 0;
}
