// build: verbatim.wasm --portable --max-memory 64
// A classic-convention module whose state text is not what JSON.stringify would write, and
// whose `echo` event keeps the exact input text it was given: the server must send a state
// back to its guest as the guest wrote it.
import { echoedState, output } from './verbatim-text';
export { init } from './verbatim-text';

export function echo(): i32 {
  return output(echoedState());
}
