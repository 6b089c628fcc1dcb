// build: resident-raw.wasm
// A resident module written against the calling convention itself, without the toolkit: it
// keeps a counter in a global between calls and returns patches. Its events go wrong on
// purpose after changing the counter, to show the server rebuilds the guest from its copy.
import { JSON } from 'json-as';
import { fail, joinParams, respondState } from '@livestate/guest';
import { readInput, writeOutput } from '@livestate/guest/assembly/io';

@json
class Counter {
  count: i32 = 0;
  calls: i32 = 0;
}

@json
class By {
  by: i32 = 0;
}

@json
class Params {
  start: i32 = 0;
}

let state: Counter | null = null;

export function livestate_resident(): void {}

/** `calls` counts the events since the state was loaded, so a test can tell a kept state from a reloaded one. */
export function livestate_load(): i32 {
  const counter = JSON.parse<Counter>(readInput());
  counter.calls = 0;
  state = counter;
  return 0;
}

export function init(): i32 {
  const counter = new Counter();
  counter.count = joinParams<Params>().start;
  return respondState(counter);
}

function held(): Counter {
  if (state === null) abort('no state was loaded');
  return state!;
}

/** Adds `by`, and counts the call. */
export function add(): i32 {
  const by = JSON.parse<By>(readInput()).by;
  const counter = held();
  counter.count += by;
  counter.calls += 1;
  writeOutput(
    `{"patch":[{"op":"replace","path":"/count","value":${counter.count}},{"op":"replace","path":"/calls","value":${counter.calls}}],` +
      `"events":[{"name":"added","detail":{"count":${counter.count}}}]}`,
  );
  return 0;
}

/** Changes its copy, then fails on purpose. */
export function refuse(): i32 {
  held().count += 1000;
  return fail('refused after changing the counter');
}

/** Changes its copy, then traps. */
export function crash(): i32 {
  held().count += 1000;
  abort('crashed after changing the counter');
  return 0;
}

/** Changes its copy, then returns a patch that does not apply to the state. */
export function badPatch(): i32 {
  held().count += 1000;
  writeOutput('{"patch":[{"op":"replace","path":"/missing/count","value":1}]}');
  return 0;
}

/** Changes its copy, then returns a patch that makes the state too large for the server. */
export function grow(): i32 {
  held().count += 1000;
  writeOutput(`{"patch":[{"op":"add","path":"/padding","value":"${'x'.repeat(4096)}"}]}`);
  return 0;
}

/** Returns a patch that adds a member named __proto__, as its own key. */
export function proto(): i32 {
  writeOutput('{"patch":[{"op":"add","path":"/__proto__","value":{"polluted":true}}]}');
  return 0;
}

/** Returns something that is not the resident reply. */
export function noPatch(): i32 {
  held().count += 1000;
  writeOutput('{"state":{}}');
  return 0;
}

/** Never returns: the pool stops it at the time limit. */
export function spin(): i32 {
  let count = held().count;
  while (count >= 0) count = (count + 1) & 0x7fffffff;
  return count;
}

@json
class Pad {
  bytes: i32 = 0;
}

/** Adds a member of `bytes` characters the guest does not keep (the server does). */
export function pad(): i32 {
  const bytes = JSON.parse<Pad>(readInput()).bytes;
  writeOutput(`{"patch":[{"op":"add","path":"/padding","value":"${'x'.repeat(bytes)}"}]}`);
  return 0;
}

/**
 * Spins when this instance has handled an event since it loaded the state, returns at once
 * on a state just loaded: slow where the state stayed, quick where it was loaded again.
 */
export function slowWhenWarm(): i32 {
  const counter = held();
  if (counter.calls > 0) {
    let count = counter.count;
    while (count >= 0) count = (count + 1) & 0x7fffffff;
  }
  counter.calls += 1;
  writeOutput(`{"patch":[{"op":"replace","path":"/calls","value":${counter.calls}}]}`);
  return 0;
}
