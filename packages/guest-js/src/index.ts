/**
 * Write a LiveState handler in JavaScript or TypeScript, as the server's JavaScript
 * handlers are written, and compile it with `livestate-guest-js` to a WebAssembly
 * Component that @livestate/server runs sandboxed.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A LiveState state: always a JSON object. */
export type State = { [key: string]: JsonValue };

type JsonField<T> = T extends null | boolean | number | string | undefined
  ? T
  : T extends readonly (infer Item)[]
    ? readonly JsonField<Item>[]
    : T extends (...args: never) => unknown
      ? never
      : { readonly [K in keyof T]: JsonField<T[K]> };

/**
 * The shape a handler's own state type must have: an object whose fields are JSON. A mapped
 * type, so that an `interface` passes as well as a type alias (interfaces have no index
 * signature, so they are not assignable to {@link State}). Use it as `S extends StateShape<S>`.
 */
export type StateShape<S> = { readonly [K in keyof S]: JsonField<S[K]> };

/** A push sent to the client that sent the event, before the state patch; `detail` is sent as JSON. */
export interface ReplyEvent {
  name: string;
  detail?: unknown;
}

const REPLY = Symbol.for('livestate.guest-js.reply');

/** A new state together with reply events. Build it with {@link reply}. */
export interface Reply<S extends StateShape<S> = State> {
  readonly [REPLY]: true;
  readonly state: S;
  readonly events: readonly ReplyEvent[];
}

/** Returns `state` as the new state and pushes `events`, in order, to the sender first. */
export const reply = <S extends StateShape<S>>(state: S, ...events: ReplyEvent[]): Reply<S> => ({ [REPLY]: true, state, events });

export const isReply = (value: unknown): value is Reply =>
  typeof value === 'object' && value !== null && (value as Partial<Reply>)[REPLY] === true;

/** The initial state, from the params the client joined with. */
export type InitFunction<S extends StateShape<S> = State> = (params: any) => S;

/** `(payload, state) -> new state`; throw an `Error` to fail the event with its message. */
export type EventFunction<S extends StateShape<S> = State> = (payload: any, state: S) => S | Reply<S>;

export interface HandlerDefinition<S extends StateShape<S> = State> {
  init: InitFunction<S>;
  /** One function per event name, called for `lvs_evt:<name>`. */
  events: Record<string, EventFunction<S>>;
}

const DEFINITION = Symbol.for('livestate.guest-js.definition');

/** A handler as one object; export it as the module's default export. */
export function defineHandler<S extends StateShape<S>>(definition: HandlerDefinition<S>): HandlerDefinition<S> {
  return Object.assign({ [DEFINITION]: true }, definition);
}

export const isDefinition = (value: unknown): value is HandlerDefinition =>
  typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DEFINITION] === true;
