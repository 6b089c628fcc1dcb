import { LiveState, type LiveStateConfig } from './live-state.js';
import type { LiveStateChange } from './events.js';
import { ownValue, readPath } from './property-path.js';

/** A state key copied to a same-named property, or `{name, path}` to read a path (JSON pointer or dotted). */
export type LiveStateProperty = string | { name: string; path: string };

export interface ConnectOptions extends LiveStateConfig {
  /** Element properties set from the state on every change. */
  properties?: LiveStateProperty[];
  /** Element attributes set from same-named state keys on every change. */
  attributes?: string[];
  events?: {
    /** Element events sent to the server as `lvs_evt:<name>`. */
    send?: string[];
    /** Server events re-dispatched on the element as CustomEvents. */
    receive?: string[];
  };
}

/** Undoes everything a connect function set up. */
export type Disconnect = () => void;

type ElementWithLiveState = HTMLElement & { liveState?: LiveState<object> };

/**
 * The payload for an element event: a CustomEvent's `detail`, or, for the `submit`
 * event of a form, the form's fields (the page is not reloaded).
 */
function payloadOf(event: Event): unknown {
  const form = event.type === 'submit' ? event.composedPath().find((target) => target instanceof HTMLFormElement) : undefined;
  if (form) {
    event.preventDefault();
    return Object.fromEntries(new FormData(form as HTMLFormElement));
  }
  return (event as CustomEvent).detail;
}

const listen = (target: EventTarget, type: string, listener: EventListener): Disconnect => {
  target.addEventListener(type, listener);
  return () => target.removeEventListener(type, listener);
};

/** Sets a property of `el` from the state on every change. */
export function connectProperty<S extends object>(liveState: LiveState<S>, el: HTMLElement, property: LiveStateProperty): Disconnect {
  const [name, path] = typeof property === 'string' ? [property, property] : [property.name, property.path];
  const apply = (state: unknown) => ((el as unknown as Record<string, unknown>)[name] = readPath(state, path));
  if (liveState.state !== undefined) apply(liveState.state);
  return listen(liveState, 'livestate-change', (event) => apply((event as CustomEvent<LiveStateChange<unknown>>).detail.state));
}

/** Sets an attribute of `el` from the same-named state key on every change (removed when absent). */
export function connectAttribute<S extends object>(liveState: LiveState<S>, el: HTMLElement, attribute: string): Disconnect {
  const apply = (state: unknown) => {
    const value = ownValue(state, attribute);
    if (value === undefined || value === null) el.removeAttribute(attribute);
    else el.setAttribute(attribute, String(value));
  };
  if (liveState.state !== undefined) apply(liveState.state);
  return listen(liveState, 'livestate-change', (event) => apply((event as CustomEvent<LiveStateChange<unknown>>).detail.state));
}

/** @deprecated the original (misspelled) name of {@link connectAttribute} */
export const connectAtttribute = connectAttribute;

/** Sends `eventName` events of `el` to the server. */
export function sendEvent<S extends object>(liveState: LiveState<S>, el: HTMLElement, eventName: string): Disconnect {
  return listen(el, eventName, (event) => liveState.pushEvent(eventName, payloadOf(event)));
}

/** Re-dispatches the server's `eventName` events on `el`. */
export function receiveEvent<S extends object>(liveState: LiveState<S>, el: HTMLElement, eventName: string): Disconnect {
  return listen(liveState, eventName, (event) => {
    el.dispatchEvent(new CustomEvent(eventName, { detail: (event as CustomEvent).detail }));
  });
}

/** Wires an element to a LiveState as `options` say; returns what undoes it. Does not connect. */
function wireElement(liveState: LiveState<object>, el: HTMLElement, options: ConnectOptions): Disconnect {
  const undo = [
    ...(options.properties ?? []).map((property) => connectProperty(liveState, el, property)),
    ...(options.attributes ?? []).map((attribute) => connectAttribute(liveState, el, attribute)),
    ...(options.events?.send ?? []).map((name) => sendEvent(liveState, el, name)),
    ...(options.events?.receive ?? []).map((name) => receiveEvent(liveState, el, name)),
  ];
  (el as ElementWithLiveState).liveState = liveState;
  return () => {
    for (const disconnect of undo) disconnect();
    if ((el as ElementWithLiveState).liveState === liveState) delete (el as ElementWithLiveState).liveState;
  };
}

/** The connection each element has from {@link connectElement}, so that connecting it again is idempotent. */
const connections = new WeakMap<HTMLElement, { liveState: LiveState<object>; disconnect: Disconnect }>();

/**
 * Connects an element to LiveState, in either of the original forms:
 * - `connectElement(el, options)` creates a LiveState from `options` and connects it;
 * - `connectElement(liveState, el, options)` uses a LiveState you made (and connects it).
 * Sets `el.liveState`. Returns a function that removes every listener it added and, in
 * the first form, disconnects the LiveState it created. An element has one connection at
 * a time: connecting it again to the same LiveState, or in the first form, changes nothing
 * and returns the same function; connecting it to another LiveState replaces the connection.
 */
export function connectElement(el: HTMLElement, options: ConnectOptions): Disconnect;
export function connectElement<S extends object>(liveState: LiveState<S>, el: HTMLElement, options: ConnectOptions): Disconnect;
export function connectElement(
  first: LiveState<object> | HTMLElement,
  second: HTMLElement | ConnectOptions,
  third?: ConnectOptions,
): Disconnect {
  const owned = !(first instanceof LiveState);
  const el = (owned ? first : second) as HTMLElement;
  const existing = connections.get(el);
  if (existing && (owned || existing.liveState === first)) return existing.disconnect;
  existing?.disconnect();
  const liveState = owned ? new LiveState(second as ConnectOptions) : first;
  const unwire = wireElement(liveState, el, ((owned ? second : third) as ConnectOptions | undefined) ?? {});
  liveState.connect();
  const connection = {
    liveState,
    disconnect: () => {
      if (connections.get(el) !== connection) return;
      connections.delete(el);
      unwire();
      if (owned) liveState.disconnect();
    },
  };
  connections.set(el, connection);
  return connection.disconnect;
}
