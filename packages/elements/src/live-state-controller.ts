import { ContextConsumer, ContextProvider } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { connectElement, type ConnectOptions, type Disconnect } from './connect-element.js';
import { liveStateContext } from './context.js';
import { metadataOf } from './element-metadata.js';
import type { LiveStateError } from './events.js';
import { LiveState } from './live-state.js';

export interface LiveStateOptions extends ConnectOptions {
  /** Share this element's LiveState with its descendants under this name (`{name}` as in the original). */
  provide?: string | { name: string; scope?: object };
  /** Use the LiveState an ancestor provides under this name, instead of opening one. */
  context?: string;
  /**
   * Config keys (`url`, `topic`, `params.<name>`) to take from element properties when it
   * connects, e.g. `{url: 'url', topic: 'topic'}`: what `@liveStateConfig` does, without decorators.
   */
  config?: Record<string, string>;
}

type Host = ReactiveControllerHost & HTMLElement;

/**
 * Connects a Lit element to LiveState for as long as it is in the document: opens (or
 * borrows, through a context) a LiveState when the host connects, wires the element's
 * properties, attributes and events to it, and undoes all of it when the host
 * disconnects. The host re-renders on every state change and on every change of
 * {@link connected}.
 */
export class LiveStateController implements ReactiveController {
  liveState: LiveState | undefined;
  /** The last `livestate-error`, until the next state change or connect: render it to tell the user. */
  error: LiveStateError | undefined;
  #unwire: Disconnect | undefined;
  #owned = false;
  #consumer: ContextConsumer<any, Host> | undefined;
  #provider: ContextProvider<any, Host> | undefined;

  constructor(
    readonly host: Host,
    readonly options: LiveStateOptions = {},
  ) {
    host.addController(this);
  }

  /** The current state, or `undefined` before the first one arrives. */
  get state(): any {
    return this.liveState?.state;
  }

  /** Whether the channel is joined: render it as an online/offline indicator. */
  get connected(): boolean {
    return this.liveState?.connected ?? false;
  }

  /** Sends `lvs_evt:<name>` with `detail`. */
  pushEvent(name: string, detail?: unknown): void {
    if (!this.liveState) throw new Error('this element is not connected to LiveState');
    this.liveState.pushEvent(name, detail);
  }

  hostConnected(): void {
    const options = this.#resolvedOptions();
    if (options.context) {
      // A consumer borrows the provider's LiveState and never disconnects it.
      this.#consumer ??= new ContextConsumer(this.host, {
        context: liveStateContext(options.context),
        subscribe: true,
        callback: (liveState: LiveState) => this.#attach(liveState, false, options),
      });
      return;
    }
    const liveState = new LiveState(options);
    if (options.provide) {
      const { name, scope } = typeof options.provide === 'string' ? { name: options.provide, scope: undefined } : options.provide;
      if (scope) (scope as Record<string, unknown>)[name] = liveState;
      if (this.#provider) this.#provider.setValue(liveState);
      else this.#provider = new ContextProvider(this.host, { context: liveStateContext(name), initialValue: liveState });
    }
    this.#attach(liveState, true, options);
  }

  hostDisconnected(): void {
    this.#detach();
  }

  #attach(liveState: LiveState, owned: boolean, options: LiveStateOptions): void {
    if (this.liveState === liveState) return;
    this.#detach();
    this.liveState = liveState;
    this.#owned = owned;
    const update = (event: Event) => {
      this.error = event.type === 'livestate-error' ? (event as CustomEvent<LiveStateError>).detail : undefined;
      this.host.requestUpdate();
    };
    const events = ['livestate-change', 'livestate-connect', 'livestate-disconnect', 'livestate-error'];
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
    for (const [key, property] of Object.entries(config)) {
      const value = (this.host as any)[property];
      if (value === undefined) continue;
      if (key.startsWith('params.')) params[key.slice('params.'.length)] = value;
      else (resolved as any)[key] = value;
    }
    resolved.params = params;
    return resolved;
  }
}
