import { Reply, type ReplyEvent, type State } from '../handler.js';

/**
 * A handler's result given as the change itself, as a resident WebAssembly guest returns it:
 * the operations that turn `state` (the state the handler was given) into the new state.
 * The server applies them to its own copy in place, so the event costs the size of the
 * change, not of the state; `settle` tells the handler what became of the change: the new
 * state once it is stored, or `undefined` when it was refused, since a guest that already
 * made the change must then be put back in step.
 */
export class PatchReply extends Reply {
  constructor(
    state: State,
    events: readonly ReplyEvent[],
    /** The operations as the guest returned them: checked by the server before anything changes. */
    readonly patch: unknown,
    readonly settle: (next: State | undefined) => void,
  ) {
    super(state, events);
  }
}
