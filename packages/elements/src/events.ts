import type { PatchOperation } from './json-patch.js';

/** `livestate-change`: after every state change. */
export interface LiveStateChange<S = any> {
  state: S;
  version: number;
}

/** `livestate-patch`: every patch received, before it is applied. */
export interface LiveStatePatch {
  patch: PatchOperation[];
  version: number;
}

/**
 * `livestate-error`. `type` is `socket error`, `channel error`, `channel join error`, or,
 * `server error` for an `error` pushed by the server, with what the server sent passed through.
 */
export interface LiveStateError {
  type: string;
  message: string;
  [key: string]: unknown;
}

export const LIVESTATE_EVENT_PREFIX = 'livestate-';
