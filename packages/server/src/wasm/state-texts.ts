import { isJsonObject } from '../state/json.js';

/**
 * The JSON text of each state a guest returned, exactly as the guest wrote it, so that
 * the next call hands the state back (in `[payload, state]`, or beside the payload for a
 * component) without encoding it again.
 *
 * Only the server can reach a guest's state, and it never changes one, so the state is
 * not deep-frozen: freezing its root is enough for `deepFreeze`, which takes a frozen
 * object as already walked, to skip a walk over the whole state.
 */
export class StateTexts {
  private readonly texts = new WeakMap<object, string>();

  /** Keeps `text` as the encoding of `state`, when `state` is an object the server will accept. */
  remember(state: unknown, text: string | undefined): void {
    if (!isJsonObject(state)) return;
    Object.freeze(state);
    if (text !== undefined) this.texts.set(state, text);
  }

  /** Forgets the text of a state that is about to be changed in place. */
  forget(state: object): void {
    this.texts.delete(state);
  }

  /** The state's JSON text: as its guest wrote it when known, else encoded now. */
  textOf(state: object): string {
    return this.texts.get(state) ?? JSON.stringify(state);
  }
}

const STATE_MEMBER = '{"state":';
const EVENTS_MEMBER = ',"events":';

/**
 * The state's text inside an envelope written as `{"state":<state>,"events":<events>}`
 * (how @livestate/guest writes it), or `undefined` for any other layout: the events'
 * text must be what JSON.stringify writes for them, so the rest is the state's.
 */
export function envelopeStateText(output: string, envelope: { events?: unknown }): string | undefined {
  if (!output.startsWith(STATE_MEMBER) || !output.endsWith('}') || Object.keys(envelope).length !== 2) return undefined;
  const split = output.lastIndexOf(EVENTS_MEMBER);
  if (split < STATE_MEMBER.length) return undefined;
  const eventsText = output.slice(split + EVENTS_MEMBER.length, -1);
  return eventsText === JSON.stringify(envelope.events) ? output.slice(STATE_MEMBER.length, split) : undefined;
}
