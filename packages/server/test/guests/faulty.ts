// build: faulty.wasm --max-memory none
// Every way a handler can go wrong, next to one that works (`count`), without the envelope.
import { Host, LogLevel, Memory } from '@extism/as-pdk';
import { JSON } from 'json-as';
import { Event, fail, respondState } from '@livestate/guest';
import { writeOutput } from '@livestate/guest/assembly/io';

@json
class Counter {
  count: i32 = 0;
  @omitnull()
  text: string | null = null;
}

@json
class Empty {}

@json
class Text {
  text: string = '';
}

@json
class Size {
  mib: i32 = 0;
}

export function init(): i32 {
  return respondState(new Counter());
}

export function count(): i32 {
  const event = Event.read<Empty, Counter>();
  event.state.count += 1;
  return respondState(event.state);
}

/** Round-trips text, to check UTF-8 in both directions. */
export function echo(): i32 {
  const event = Event.read<Text, Counter>();
  event.state.text = event.payload.text;
  return respondState(event.state);
}

export function domainError(): i32 {
  return fail('nope: «not allowed»');
}

export function trap(): i32 {
  Event.read<Empty, Counter>();
  throw new Error('guest assertion failed');
}

export function spin(): i32 {
  let i: i64 = 0;
  while (i >= 0) i++;
  return 0;
}

export function notJson(): i32 {
  writeOutput('{"count": oops');
  return 0;
}

export function notObject(): i32 {
  writeOutput('[1, 2, 3]');
  return 0;
}

export function noOutput(): i32 {
  return 0;
}

/** Allocates `mib` MiB and keeps it reachable. */
export function grow(): i32 {
  const event = Event.read<Size, Counter>();
  const block = new ArrayBuffer(event.payload.mib * 1024 * 1024);
  event.state.count = block.byteLength;
  return respondState(event.state);
}

export function log(): i32 {
  Host.log(LogLevel.Info, 'hello from the guest');
  Host.log(LogLevel.Warn, 'careful, guest here');
  return respondState(Event.read<Empty, Counter>().state);
}

let callsOnThisInstance: i32 = 0;

/** Counts the calls this instance has served: a fresh instance starts again at 1. */
export function instanceCalls(): i32 {
  const event = Event.read<Empty, Counter>();
  event.state.count = ++callsOnThisInstance;
  return respondState(event.state);
}

@json
class Flood {
  bytes: i32 = 0;
}

/** Returns a state whose JSON text is `bytes` long. */
export function flood(): i32 {
  const event = Event.read<Flood, Counter>();
  event.state.text = 'x'.repeat(event.payload.bytes - '{"count":0,"text":""}'.length);
  return respondState(event.state);
}

@json
class Hoard {
  blocks: i32 = 0;
  mib: i32 = 0;
}

/** Allocates `blocks` kernel blocks of `mib` MiB each: memory on the host's side, outside the guest's own cap. */
export function hoard(): i32 {
  const event = Event.read<Hoard, Counter>();
  for (let i = 0; i < event.payload.blocks; i++) Memory.allocate(<u64>event.payload.mib * 1024 * 1024);
  event.state.count = event.payload.blocks;
  return respondState(event.state);
}
