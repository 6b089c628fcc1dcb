import { ContextConsumer, ContextProvider, type Context } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { connectElement, type ConnectOptions, type Disconnect } from './connect-element.js';
import { liveStateContext } from './context.js';
import { metadataOf } from './element-metadata.js';
import type { LiveStateError } from './events.js';
import { configProblem, LiveState } from './live-state.js';
import { publish, watch } from './scoped-context.js';

export interface LiveStateOptions extends ConnectOptions {
  /**
   * Share this element's LiveState under a name: with its descendants (`'todos'`), and, as in
   * the original, `{scope: window, name: 'todos'}` also as `window.todos` for consumers anywhere
   * in the page (a LiveState already there is used).
   */
  provide?: string | { name: string; scope?: object };
  /**
   * Use the LiveState provided under this name instead of opening one: an ancestor's, or
   * one published on a scope (before or after this element connects).
   */
  context?: string;
  /**
   * Config keys (`url`, `topic`, `params.<name>`) to take from element properties when it
   * connects, e.g. `{url: 'url', topic: 'topic'}`: what `@liveStateConfig` does, without decorators.
   */
  config?: Record<string, string>;
}

type Host = ReactiveControllerHost & HTMLElement;
type AnyLiveState = LiveState<object>;

/**
 * Connects an element to LiveState for as long as it is in the document: opens (or
 * borrows, through a context) a LiveState when the host connects, wires the element's
 * properties, attributes and events to it, and undoes all of it when the host
 * disconnects. The host re-renders on every state change and on every change of
 * {@link connected}. Without a url or topic it reports a `livestate-error` (`config
 * error`) on the host and waits: each host update tries again.
 */
export class LiveStateController<S extends object = Record<string, unknown>> implements ReactiveController {
  liveState: LiveState<S> | undefined;
  /** The last `livestate-error`, until the next state change or connect: render it to tell the user. */
  error: LiveStateError | undefined;
  #unwire: Disconnect | undefined;
  #owned = false;
  #waiting = false;
  #consumer: ContextConsumer<Context<string, AnyLiveState>, Host> | undefined;
  #provider: ContextProvider<Context<string, AnyLiveState>, Host> | undefined;
  #fromAncestor: AnyLiveState | undefined;
  #fromScope: AnyLiveState | undefined;
  #stopWatching: (() => void) | undefined;
  #unpublish: (() => void) | undefined;

  constructor(
    readonly host: Host,
    readonly options: LiveStateOptions = {},
  ) {
    host.addController(this);
  }

  /** The current state, or `undefined` before the first one arrives. */
  get state(): S | undefined {
    return this.liveState?.state;
  }

  /** Whether the channel is joined: render it as an online/offline indicator. */
  get connected(): boolean {
    return this.liveState?.connected ?? false;
  }

  /** Sends `lvs_evt:<name>` with `detail`; resolves with the committed version, as {@link LiveState.pushEvent}. */
  pushEvent(name: string, detail?: unknown): Promise<number> {
    if (!this.liveState) throw new Error('this element is not connected to LiveState');
    return this.liveState.pushEvent(name, detail);
  }

  hostConnected(): void {
    const options = this.#resolvedOptions();
    if (options.context) this.#consume(options.context, options);
    else this.#open(options);
  }

  /** A host waiting for its url or topic may have them now. */
  hostUpdated(): void {
    if (this.#waiting) this.#open(this.#resolvedOptions());
  }

  hostDisconnected(): void {
    this.#stopWatching?.();
    this.#stopWatching = undefined;
    this.#fromAncestor = this.#fromScope = undefined;
    this.#waiting = false;
    this.#detach();
  }

  /** Opens a LiveState of its own (published, if `provide` says so). */
  #open(options: LiveStateOptions): void {
    const problem = configProblem(options);
    if (problem) {
      if (!this.#waiting) this.#reportConfigError(problem);
      this.#waiting = true;
      return;
    }
    this.#waiting = false;
    const { name, scope } = typeof options.provide === 'string' ? { name: options.provide, scope: undefined } : (options.provide ?? {});
    let liveState: AnyLiveState;
    if (name && scope) {
      const published = publish(scope, name, () => new LiveState(options));
      liveState = published.liveState;
      this.#attach(liveState, false, options);
      this.#unpublish = published.release;
    } else {
      liveState = new LiveState(options);
      this.#attach(liveState, true, options);
    }
    if (!name) return;
    if (this.#provider) this.#provider.setValue(liveState);
    else this.#provider = new ContextProvider(this.host, { context: liveStateContext(name), initialValue: liveState });
  }

  /** Borrows the LiveState provided under `name`: an ancestor's through @lit/context, else one published on a scope. */
  #consume(name: string, options: LiveStateOptions): void {
    const follow = () => {
      const liveState = this.#fromAncestor ?? this.#fromScope;
      if (liveState) this.#attach(liveState, false, options);
      else this.#detach();
    };
    this.#consumer ??= new ContextConsumer(this.host, {
      context: liveStateContext(name),
      subscribe: true,
      callback: (liveState) => {
        this.#fromAncestor = liveState;
        follow();
      },
    });
    this.#stopWatching = watch(name, (liveState) => {
      this.#fromScope = liveState;
      follow();
    });
  }

  #reportConfigError(message: string): void {
    this.error = { type: 'config error', message };
    this.host.dispatchEvent(new CustomEvent('livestate-error', { detail: this.error, bubbles: true, composed: true }));
    this.host.requestUpdate();
  }

  #attach(liveState: AnyLiveState, owned: boolean, options: LiveStateOptions): void {
    if (this.liveState === liveState) return;
    this.#detach();
    this.liveState = liveState as LiveState<S>;
    this.#owned = owned;
    const update = (event: Event) => {
      this.error = event.type === 'livestate-error' ? (event as CustomEvent<LiveStateError>).detail : undefined;
      this.host.requestUpdate();
    };
    const events = ['livestate-change', 'livestate-connect', 'livestate-disconnect', 'livestate-error'] as const;
    for (const type of events) liveState.addEventListener(type, update);
    const unwireElement = connectElement(liveState, this.host, options);
    this.#unwire = () => {
      for (const type of events) liveState.removeEventListener(type, update);
      unwireElement();
    };
    this.host.requestUpdate();
  }

  #detach(): void {
    this.#unwire?.();
    this.#unwire = undefined;
    if (this.#owned) this.liveState?.disconnect();
    this.#unpublish?.();
    this.#unpublish = undefined;
    this.liveState = undefined;
    this.#owned = false;
    this.error = undefined;
  }

  /**
   * The options with what the element contributes: properties from `@liveStateProperty`
   * and config from `@liveStateConfig` (read now, so attributes set in HTML count).
   */
  #resolvedOptions(): LiveStateOptions {
    const { properties, config: decorated } = metadataOf(this.host.constructor);
    const config = { ...this.options.config, ...decorated };
    const resolved: LiveStateOptions = { ...this.options, properties: [...(this.options.properties ?? []), ...properties] };
    const params: Record<string, unknown> = { ...(this.options.params ?? {}) };
    const fields = resolved as Record<string, unknown>;
    for (const [key, property] of Object.entries(config)) {
      const value = (this.host as unknown as Record<PropertyKey, unknown>)[property];
      if (value === undefined || value === null) continue;
      if (key.startsWith('params.')) params[key.slice('params.'.length)] = value;
      else fields[key] = value;
    }
    resolved.params = params;
    return resolved;
  }
}
