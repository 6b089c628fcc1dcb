import type { Channel, Socket } from 'phoenix';
import { acquireChannel, type ChannelLease } from './channel-registry.js';
import {
  LIVESTATE_EVENT_PREFIX,
  type LiveStateChange,
  type LiveStateError,
  type LiveStateEventMap,
  type LiveStatePatch,
  type ServerEventListener,
} from './events.js';
import { applyPatch, type PatchOperation } from './json-patch.js';
import { scriptSocketUrl } from './script-url.js';

export interface LiveStateConfig {
  /**
   * The socket URL, e.g. `ws://localhost:4000/socket`. Default: the server the script-tag
   * bundle came from ({@link scriptSocketUrl}), if this library was loaded by one.
   */
  url?: string;
  /** The channel topic, e.g. `todo:all`. */
  topic?: string;
  /** Sent as the join params. */
  params?: object;
  /** Passed to the phoenix `Socket`, by the LiveState that opens it (sockets are shared). */
  socketOptions?: object;
  /**
   * How long {@link LiveState.pushEvent} waits for the server's answer, offline time
   * included, before it rejects with `timeout`. Default 60,000.
   */
  eventTimeoutMs?: number;
}

/** Why the server did not apply an event: its `reason`, or `timeout` when no answer came. */
export class LiveStateEventError extends Error {
  override name = 'LiveStateEventError';

  constructor(
    readonly event: string,
    readonly reason: string,
  ) {
    super(`${event}: ${reason}`);
  }
}

const DEFAULT_EVENT_TIMEOUT_MS = 60_000;

type Listener = EventListenerOrEventListenerObject;

const urlOf = (config: LiveStateConfig): string | undefined => config.url || scriptSocketUrl;

/** Why `config` cannot connect, or `undefined` when it can. */
export function configProblem(config: LiveStateConfig): string | undefined {
  if (urlOf(config) && config.topic) return undefined;
  const show = (value: string | undefined) => (value === undefined ? 'undefined' : JSON.stringify(value));
  return `LiveState needs a url and a topic (got url ${show(config.url)}, topic ${show(config.topic)})`;
}

const messageOf = (error: unknown): string => {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') {
    const { reason, message, name, type } = error as Record<string, unknown>;
    const found = [reason, message, name].find((value) => typeof value === 'string' && value !== '');
    if (found) return found as string;
    if (type === 'error') return 'the connection failed';
  }
  return error === undefined ? 'unknown error' : JSON.stringify(error);
};

/** Why a `state:change` cannot be taken (protocol: the state is always a JSON object), or `undefined`. */
function invalidChange(state: unknown, version: unknown): string | undefined {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    return `the server sent a state that is not an object (${Array.isArray(state) ? 'an array' : String(state === null ? null : typeof state)})`;
  }
  if (!Number.isSafeInteger(version) || (version as number) < 0) return `the server sent a version that is not a whole number (${JSON.stringify(version)})`;
  return undefined;
}

/**
 * One connection to one LiveState topic: joins the channel, keeps the state and its
 * version in step with the server's `state:change` and `state:patch` pushes, sends
 * DOM events as `lvs_evt:<name>`, and re-dispatches server events as DOM events.
 * LiveStates on the same URL share a phoenix Socket, and on the same topic with equal params a Channel.
 * `S` is the type of the state, e.g. `LiveState<{todos: Todo[]}>`.
 */
export class LiveState<S extends object = Record<string, unknown>> implements EventTarget {
  /** The current state, or `undefined` before the first one arrives. */
  state: S | undefined;
  stateVersion = 0;
  /** Whether the channel is joined right now: false before the first join and while offline. */
  connected = false;
  socket: Socket | undefined;
  channel: Channel | undefined;
  readonly config: LiveStateConfig;
  readonly #eventTarget = new EventTarget();
  /** Listeners per server event name, so a name is bound on the channel once and unbound with its last listener. */
  readonly #serverListeners = new Map<string, Set<Listener>>();
  readonly #bindings = new Map<string, number>();
  readonly #cleanups: Array<() => void> = [];
  #lease: ChannelLease | undefined;

  constructor(config: LiveStateConfig) {
    this.config = config;
  }

  /**
   * Joins the channel. Calling it again while connected does nothing. Without a url or a
   * topic it joins nothing and reports a `livestate-error` of type `config error`.
   */
  connect(): void {
    if (this.channel) return;
    const problem = configProblem(this.config);
    if (problem) return this.#emitError('config error', problem);
    const { topic, params = {}, socketOptions } = this.config;
    this.#lease = acquireChannel(urlOf(this.config)!, topic!, params, socketOptions);
    const { channel, joined, socket } = this.#lease;
    this.channel = channel;
    this.socket = socket;
    this.#bind('state:change', (payload) => this.#handleChange({ ...(payload as LiveStateChange<unknown>) }));
    this.#bind('state:patch', (payload) => this.#handlePatch({ ...(payload as LiveStatePatch) }));
    this.#bind('error', (payload) => this.#emit('livestate-error', { type: 'server error', ...(payload as object) }));
    for (const name of this.#serverListeners.keys()) this.#bindServerEvent(name);
    this.#watchConnection(socket, channel);
    if (!joined) {
      channel
        .join()
        .receive('error', (reason) => this.#emitError('channel join error', reason))
        .receive('timeout', () => this.#emitError('channel join error', 'timeout'));
    } else if (channel.state === 'joined') {
      // The channel was joined by another LiveState: its state came before we listened.
      this.#setConnected(true);
      channel.push('lvs_refresh', {});
    }
  }

  /** Leaves the channel (and the socket, when no other LiveState uses it). `connect()` may follow. */
  disconnect(): void {
    if (!this.#lease) return;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#bindings.clear();
    this.#lease.release();
    this.#lease = undefined;
    this.channel = undefined;
    this.socket = undefined;
    this.#setConnected(false);
  }

  /**
   * Sends `lvs_evt:<name>` with `detail` as the payload. Resolves with the version of the
   * update the event committed once its patch has arrived; rejects with a
   * {@link LiveStateEventError} whose `reason` is the server's, or `timeout` when no
   * answer came within `eventTimeoutMs`. While offline the event waits and is sent after
   * the rejoin; an event that timed out before it was sent is never sent. A rejection
   * nobody handles is not reported as unhandled: the `error` push still reaches
   * `livestate-error` listeners.
   */
  pushEvent(name: string, detail?: unknown): Promise<number> {
    if (!this.channel) throw new Error('LiveState is not connected: call connect() first');
    const push = this.channel.push(`lvs_evt:${name}`, (detail ?? {}) as object, this.config.eventTimeoutMs ?? DEFAULT_EVENT_TIMEOUT_MS);
    const outcome = new Promise<number>((resolve, reject) => {
      push
        .receive('ok', (response: { version?: unknown }) => resolve(response?.version as number))
        .receive('error', (response: { reason?: unknown }) => reject(new LiveStateEventError(name, messageOf(response))))
        .receive('timeout', () => reject(new LiveStateEventError(name, 'timeout')));
    });
    outcome.catch(() => undefined);
    return outcome;
  }

  /** Sends a DOM event to the server as `lvs_evt:<event.type>`, its `detail` as the payload. */
  dispatchEvent(event: Event): boolean {
    void this.pushEvent(event.type, (event as CustomEvent).detail);
    return true;
  }

  /** @deprecated the original name of {@link dispatchEvent} */
  pushCustomEvent(event: Event): boolean {
    return this.dispatchEvent(event);
  }

  /**
   * Listens to `livestate-*` events, or to any event the server pushes: a server event
   * name is bound on the channel with its first listener and unbound with its last.
   * Server events are `CustomEvent<D>`s whose `detail` is the payload: name `D` for a typed
   * listener, e.g. `addEventListener<Todo>('todo-added', (event) => event.detail.text)`.
   */
  addEventListener<K extends keyof LiveStateEventMap<S>>(
    type: K,
    listener: ((this: LiveState<S>, event: LiveStateEventMap<S>[K]) => void) | EventListenerObject | null,
    options?: AddEventListenerOptions | boolean,
  ): void;
  addEventListener<D = unknown>(type: string, listener: ServerEventListener<D> | null, options?: AddEventListenerOptions | boolean): void;
  addEventListener(type: string, callback: ServerEventListener<never> | null, options?: AddEventListenerOptions | boolean): void {
    const listener = callback as Listener | null;
    if (!listener) return;
    this.#eventTarget.addEventListener(type, listener, options);
    if (type.startsWith(LIVESTATE_EVENT_PREFIX)) return;
    let listeners = this.#serverListeners.get(type);
    if (!listeners) this.#serverListeners.set(type, (listeners = new Set()));
    listeners.add(listener);
    if (this.channel) this.#bindServerEvent(type);
  }

  removeEventListener<K extends keyof LiveStateEventMap<S>>(
    type: K,
    listener: ((this: LiveState<S>, event: LiveStateEventMap<S>[K]) => void) | EventListenerObject | null,
    options?: EventListenerOptions | boolean,
  ): void;
  removeEventListener<D = unknown>(type: string, listener: ServerEventListener<D> | null, options?: EventListenerOptions | boolean): void;
  removeEventListener(type: string, callback: ServerEventListener<never> | null, options?: EventListenerOptions | boolean): void {
    const listener = callback as Listener | null;
    if (!listener) return;
    this.#eventTarget.removeEventListener(type, listener, options);
    const listeners = this.#serverListeners.get(type);
    if (!listeners?.delete(listener) || listeners.size > 0) return;
    this.#serverListeners.delete(type);
    const ref = this.#bindings.get(type);
    if (ref !== undefined) {
      this.channel?.off(type, ref);
      this.#bindings.delete(type);
    }
  }

  /** @deprecated listen to `livestate-change` instead */
  subscribe(subscriber: (event: CustomEvent<LiveStateChange<S>>) => void): void {
    this.addEventListener('livestate-change', subscriber);
  }

  /** @deprecated */
  unsubscribe(subscriber: (event: CustomEvent<LiveStateChange<S>>) => void): void {
    this.removeEventListener('livestate-change', subscriber);
  }

  #bind(event: string, callback: (payload: unknown) => void): number {
    const channel = this.channel!;
    const ref = channel.on(event, callback);
    this.#cleanups.push(() => channel.off(event, ref));
    return ref;
  }

  #bindServerEvent(name: string): void {
    if (this.#bindings.has(name)) return;
    this.#bindings.set(name, this.#bind(name, (payload) => this.#eventTarget.dispatchEvent(new CustomEvent(name, { detail: payload }))));
  }

  #watchConnection(socket: Socket, channel: Channel): void {
    // `joinPush` is phoenix.js's join, resent on every rejoin; its types do not declare it.
    const joinRef = (channel as unknown as { joinPush: { receive(status: string, callback: () => void): void } }).joinPush;
    const onJoined = () => this.#setConnected(true);
    // phoenix.js has no way to remove a receive hook: ignore it once this channel is released.
    joinRef.receive('ok', () => this.channel === channel && onJoined());
    const socketRefs = [
      socket.onError((error: unknown) => {
        if (this.channel === channel) this.#emitError('socket error', error);
      }),
      socket.onClose(() => {
        if (this.channel === channel) this.#setConnected(false);
      }),
    ];
    channel.onError((reason?: unknown) => {
      if (this.channel !== channel) return;
      this.#setConnected(false);
      if (reason !== undefined) this.#emitError('channel error', reason);
    });
    this.#cleanups.push(() => socket.off(socketRefs));
  }

  #setConnected(connected: boolean): void {
    if (this.connected === connected) return;
    this.connected = connected;
    this.#emit(connected ? 'livestate-connect' : 'livestate-disconnect', {});
  }

  #handleChange({ state, version }: LiveStateChange<unknown>): void {
    const problem = invalidChange(state, version);
    if (problem) {
      this.#emitError('state error', problem);
      return;
    }
    this.state = state as S;
    this.stateVersion = version;
    this.#emit<LiveStateChange<S>>('livestate-change', { state: state as S, version });
  }

  #handlePatch({ patch, version }: LiveStatePatch): void {
    this.#emit<LiveStatePatch>('livestate-patch', { patch, version });
    if (version !== this.stateVersion + 1 && version !== 0) {
      this.channel?.push('lvs_refresh', {});
      return;
    }
    let state: unknown;
    try {
      state = applyPatch(this.state, patch as PatchOperation[]);
    } catch {
      state = undefined;
    }
    if (invalidChange(state, version)) this.channel?.push('lvs_refresh', {});
    else this.#handleChange({ state, version });
  }

  #emitError(type: string, error: unknown): void {
    this.#emit<LiveStateError>('livestate-error', { type, message: messageOf(error) });
  }

  #emit<T>(type: string, detail: T): void {
    this.#eventTarget.dispatchEvent(new CustomEvent<T>(type, { detail }));
  }
}
