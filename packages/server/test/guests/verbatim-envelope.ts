// build: verbatim-envelope.wasm --portable --max-memory 64
// verbatim.ts with reply events: `echo` returns its state, as it wrote it, inside the
// `{"state": ..., "events": [...]}` envelope, so the server must find the state's text in it.
import { echoedState, output } from './verbatim-text';
export { init } from './verbatim-text';
export { livestate_envelope } from '@livestate/guest';

export function echo(): i32 {
  return output('{"state":' + echoedState() + ',"events":[{"name":"echoed","detail":{}}]}');
}
