import type { PatchOperation } from './json-patch.js';

/** `livestate-change`: after every state change. */
export interface LiveStateChange<S = Record<string, unknown>> {
  state: S;
  version: number;
}

/** `livestate-patch`: every patch received, before it is applied. */
export interface LiveStatePatch {
  patch: PatchOperation[];
  version: number;
}

/**
 * `livestate-error`. `type` is `socket error`, `channel error`, `channel join error`,
 * `server error` for an `error` pushed by the server (what it sent is passed through),
 * `state error` for a state the client refuses, or `config error` for a missing url or topic.
 */
export interface LiveStateError {
  type: string;
  message: string;
  [key: string]: unknown;
}

/**
 * The `livestate-*` events of a `LiveState<S>` and their details, by name, as
 * `HTMLElementEventMap` is for elements: `addEventListener` types its listener from it.
 */
export interface LiveStateEventMap<S = Record<string, unknown>> {
  'livestate-change': CustomEvent<LiveStateChange<S>>;
  'livestate-patch': CustomEvent<LiveStatePatch>;
  'livestate-error': CustomEvent<LiveStateError>;
  'livestate-connect': CustomEvent<Record<string, never>>;
  'livestate-disconnect': CustomEvent<Record<string, never>>;
}

/** A listener for a server event of that name: its `detail` is the server's payload. */
export type ServerEventListener<D = unknown> = ((event: CustomEvent<D>) => void) | EventListenerObject;

export const LIVESTATE_EVENT_PREFIX = 'livestate-';

declare global {
  interface HTMLElementEventMap {
    /** Dispatched on an element whose LiveState configuration is incomplete (`config error`). */
    'livestate-error': CustomEvent<LiveStateError>;
  }
}
