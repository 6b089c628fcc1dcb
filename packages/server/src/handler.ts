import type { Payload } from './transport/serializer.js';
import type { JsonObject } from './state/json.js';

/** A LiveState state: always a JSON object. */
export type State = JsonObject;

type JsonField<T> = T extends null | boolean | number | string | undefined
  ? T
  : T extends readonly (infer Item)[]
    ? readonly JsonField<Item>[]
    : T extends (...args: never) => unknown
      ? never
      : { readonly [K in keyof T]: JsonField<T[K]> };

/**
 * The shape a handler's own state type must have: an object whose fields are JSON (an
 * `undefined` field is left out when encoded). Written as a mapped type so that an
 * `interface` passes as well as a type alias: interfaces have no index signature, so they
 * are not assignable to {@link JsonObject}. Use it as `S extends StateShape<S>`.
 */
export type StateShape<S> = { readonly [K in keyof S]: JsonField<S[K]> };

/**
 * What each event's payload is, by event name: `{addTodo: {todo: string}}`. Payloads come
 * from clients and are not checked at run time; validate what you rely on.
 */
export type EventPayloads<P> = { [E in keyof P]: object };

/** What the server knows about the socket an event came from. */
export interface SocketInfo {
  /** Unique for the life of the server process. */
  readonly id: string;
  /** The query parameters the client connected with (phoenix.js socket `params`). */
  readonly params: Payload;
  /** Whatever the server's `connect` hook returned for this socket. */
  readonly assigns: Readonly<Record<string, unknown>>;
}

export interface EventContext {
  readonly topic: string;
  readonly socket: SocketInfo;
}

/** A push sent before the state update, re-dispatched by clients as a DOM CustomEvent. */
export interface ReplyEvent {
  name: string;
  detail?: unknown;
}

/** A new state together with events for the client that sent the event. Build it with {@link reply}. */
export class Reply<S extends StateShape<S> = State> {
  constructor(
    readonly state: S,
    readonly events: readonly ReplyEvent[],
  ) {}
}

/** Returns `state` as the new state and pushes `events`, in order, to the sender first. */
export const reply = <S extends StateShape<S>>(state: S, ...events: ReplyEvent[]): Reply<S> => new Reply(state, events);

/** `true` admits the join; `false` or a reason string refuses it. */
export type Authorization = boolean | string;

type MaybePromise<T> = T | Promise<T>;

/**
 * Marks a handler that bounds the time of its own calls and stops a call that runs over, as
 * WebAssembly handlers do. The server then adds no time limit of its own, which could only
 * abandon a call that still holds its worker.
 */
export const ownTimeLimit: unique symbol = Symbol('livestate.ownTimeLimit');

/**
 * The server side of a LiveState channel: `(event, state) -> new state`.
 * States are deeply frozen: return a new object rather than mutating the old one,
 * which is also what lets the server diff cheaply by reference.
 */
export interface LiveStateHandler<S extends StateShape<S> = State> {
  readonly [ownTimeLimit]?: true;
  authorize?(topic: string, params: Payload, socket: SocketInfo): MaybePromise<Authorization>;
  init(topic: string, params: Payload, socket: SocketInfo): MaybePromise<S>;
  handleEvent(name: string, payload: Payload, state: S, context: EventContext): MaybePromise<S | Reply<S>>;
}

/**
 * An error whose message is meant for the user: the client gets it verbatim in its
 * `error` push (`throw new UserError('a todo needs some text')`). Any other exception
 * a handler throws is logged with its stack, and the client is told only
 * `internal error in handler`, so internals do not leak.
 */
export class UserError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserError';
  }
}

/** Thrown by a handler for an event it does not know; the client gets an `error` push. */
export class UnknownEventError extends UserError {
  constructor(readonly eventName: string) {
    super(`unknown event "${eventName}"`);
    this.name = 'UnknownEventError';
  }
}

export type EventFunction<S extends StateShape<S>, P extends object = Payload> = (
  payload: P,
  state: S,
  context: EventContext,
) => MaybePromise<S | Reply<S>>;

export interface HandlerDefinition<S extends StateShape<S>, P extends EventPayloads<P> = Record<string, Payload>> {
  authorize?: LiveStateHandler<S>['authorize'];
  init: LiveStateHandler<S>['init'];
  /** One function per event name, called for `lvs_evt:<name>`. */
  events: { [E in keyof P]: EventFunction<S, P[E]> };
}

/**
 * Builds a handler from one function per event; other events get an {@link UnknownEventError}.
 * `defineHandler<Todos, {addTodo: {todo: string}}>({...})` types the state and each event's payload.
 */
export function defineHandler<S extends StateShape<S>, P extends EventPayloads<P> = Record<string, Payload>>(
  definition: HandlerDefinition<S, P>,
): LiveStateHandler<S> {
  // Payloads arrive from clients unchecked: each function gets whatever its client sent.
  const events: Record<string, EventFunction<S, never>> = definition.events;
  return {
    ...(definition.authorize ? { authorize: definition.authorize } : {}),
    init: definition.init,
    handleEvent(name, payload, state, context) {
      if (!Object.hasOwn(events, name)) throw new UnknownEventError(name);
      return events[name]!(payload as never, state, context);
    },
  };
}
