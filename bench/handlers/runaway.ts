// build: runaway.wasm
// The `faults` workload's runaway guest: its one event never returns, so every call runs
// into the server's time limit.
import { JSON } from 'json-as';
import { respondState } from '@livestate/guest';

@json
class Empty {}

export function init(): i32 {
  return respondState(new Empty());
}

export function spin(): i32 {
  let i: i64 = 0;
  while (i >= 0) i++;
  return 0;
}
