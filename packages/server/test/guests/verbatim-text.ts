// Shared by verbatim.ts and verbatim-envelope.ts (not a module of its own: no build line).
import { Host } from '@extism/as-pdk';
import { JSON } from 'json-as';
import '@livestate/guest/assembly/abort';

export function output(text: string): i32 {
  Host.output(Uint8Array.wrap(String.UTF8.encode(text)));
  return 0;
}

/** A state written with spaces and `1.50`, as JSON.stringify would not write it. */
export function init(): i32 {
  return output('{ "price" : 1.50 }');
}

/** The state `echo` returns: the initial one plus the exact input text of the call. */
export function echoedState(): string {
  const input = String.UTF8.decode(Host.input().buffer);
  return '{ "price" : 1.50, "input" : ' + JSON.stringify<string>(input) + ' }';
}
