import type { LiveStateHandler } from '../handler.js';
import type { Logger } from '../logger.js';
import {
  checkFunction,
  checkObject,
  checkOptionalFunction,
  checkOptionalPositiveInteger,
} from '../option-checks.js';
import { LimitError, type StateCache } from '../state/state-cache.js';
import { StateStore } from '../state/state-store.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import type { Position, Storage } from '../storage/storage.js';
import type { TopicState } from './topic-state.js';

/**
 * Where a topic's state lives:
 * - `connection`: every join gets a state of its own (the original LiveState);
 * - `topic`: one state per topic, shared by every member and kept in the server's storage.
 */
export type Scope = 'connection' | 'topic';

/** Limits a route takes from the server unless it sets its own. */
export interface HandlerLimits {
  /**
   * How long a handler call (`authorize`, `init`, an event) may take before it fails
   * with a timeout error. It bounds a promise that never settles; synchronous code
   * cannot be interrupted. Default 5,000.
   */
  handlerTimeoutMs?: number;
  /** The largest state, in bytes of UTF-8 JSON, that `init` or an event may produce. Default 1 MiB. */
  maxStateBytes?: number;
}

export const DEFAULT_HANDLER_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_STATE_BYTES = 1024 * 1024;

/** Checks the limits of a route or of the server; `where` prefixes the option names in errors. */
export function checkHandlerLimits(limits: HandlerLimits, where: string): void {
  checkOptionalPositiveInteger(limits.handlerTimeoutMs, `${where}handlerTimeoutMs`);
  checkOptionalPositiveInteger(limits.maxStateBytes, `${where}maxStateBytes`);
}

export interface RouteOptions extends HandlerLimits {
  /** A topic, or a prefix ending in `*` (`todo:*`), as in Phoenix's `channel` macro. */
  topic: string;
  /** A handler of any state type (`object` erases it; the server checks each state is a JSON object). */
  handler: LiveStateHandler<object>;
  /** Default `connection`. */
  scope?: Scope;
  /** The last version before versions wrap to 0. Default 1000, as in the reference server. */
  maxVersion?: number;
}

/** What every route shares: where topic states are stored, and where to report failures. */
export interface RouteContext {
  storage: Storage;
  logger: Logger;
  /** The server's limits, for routes that set none. */
  limits: Required<HandlerLimits>;
  /** Where topic-scoped states live when not in this process (a cluster's topics). */
  sharedState?: (topic: string, route: Route) => TopicState;
  /**
   * Where connection-scoped states are kept when not in this process's memory (a cluster's
   * Redis, so that a client can resume its state on another node within the grace period).
   */
  connectionStorage?: (topic: string, resume: Position | undefined) => ExpiringStorage;
  /** The states held in this process, shared by every route. */
  states: StateCache;
  /** How long a topic-scoped state with no members stays in memory. */
  unloadAfterMs: number;
  /** How long a connection-scoped state is kept after its channel goes, for its client to resume. */
  connectionGraceMs: number;
}

/** A storage whose contents can be set to expire (a connection-scoped state in its grace period). */
export interface ExpiringStorage extends Storage {
  expireAfter(ms: number): Promise<void>;
}

/** A topic pattern bound to a handler, owning the states of the topics it matches. */
export class Route {
  readonly pattern: string;
  readonly scope: Scope;
  private readonly prefix: string | undefined;
  readonly maxVersion: number;
  readonly handlerTimeoutMs: number;
  readonly maxStateBytes: number;

  /** `name` is how errors refer to these options, e.g. `routes[1]`. */
  constructor(
    private readonly options: RouteOptions,
    private readonly context: RouteContext,
    name = 'route',
  ) {
    checkObject(options, name);
    const { topic, handler, scope = 'connection', maxVersion = 1000 } = options;
    const star = typeof topic === 'string' ? topic.indexOf('*') : -1;
    if (typeof topic !== 'string' || topic === '' || (star !== -1 && star !== topic.length - 1)) {
      throw new TypeError(`invalid ${name}.topic ${JSON.stringify(topic)}: expected a topic, or a prefix ending in "*" ("*" may only end a pattern)`);
    }
    checkObject(handler, `${name}.handler`);
    checkFunction(handler.init, `${name}.handler.init`);
    checkOptionalFunction(handler.handleEvent, `${name}.handler.handleEvent`);
    checkOptionalFunction(handler.authorize, `${name}.handler.authorize`);
    if (scope !== 'connection' && scope !== 'topic') {
      throw new TypeError(`invalid ${name}.scope ${JSON.stringify(scope)}: expected "connection" or "topic"`);
    }
    checkOptionalPositiveInteger(maxVersion, `${name}.maxVersion`);
    checkHandlerLimits(options, `${name}.`);
    this.pattern = topic;
    this.prefix = star === -1 ? undefined : topic.slice(0, -1);
    this.scope = scope;
    this.maxVersion = maxVersion;
    this.handlerTimeoutMs = options.handlerTimeoutMs ?? context.limits.handlerTimeoutMs;
    this.maxStateBytes = options.maxStateBytes ?? context.limits.maxStateBytes;
  }

  get handler(): LiveStateHandler {
    return this.options.handler as LiveStateHandler;
  }

  matches(topic: string): boolean {
    return this.prefix === undefined ? topic === this.pattern : topic.startsWith(this.prefix);
  }

  /**
   * The store a new join of `topic` attaches to; `resume` gets a connection-scoped state back
   * within its grace period. Throws a {@link LimitError} when no more states fit in memory.
   */
  storeFor(topic: string, resume?: Position): TopicState {
    if (this.scope === 'connection') return this.connectionStore(topic, resume);
    if (this.context.sharedState) return this.context.sharedState(topic, this);
    const { states, storage, unloadAfterMs } = this.context;
    const key = `topic ${topic}`;
    return (
      states.take(key) ??
      states.add(key, (after) => this.newStore(topic, storage, after, (store) => states.unloadLater(key, store, unloadAfterMs)))
    );
  }

  /**
   * A connection's state is its own, in a memory storage of its own. When its channel goes it
   * is held for the grace period under its epoch, an unguessable id that only its client knows.
   */
  private connectionStore(topic: string, resume: Position | undefined): StateStore {
    const { states, connectionGraceMs, connectionStorage } = this.context;
    if (connectionStorage) {
      const storage = connectionStorage(topic, resume);
      return this.newStore(topic, storage, undefined, () => void storage.expireAfter(connectionGraceMs).catch(() => undefined));
    }
    const keyOf = (epoch: string) => `connection ${epoch} ${topic}`;
    const held = resume && states.take(keyOf(resume.epoch));
    if (held) return held;
    return this.newStore(topic, new MemoryStorage(), undefined, (store) => {
      if (store.currentEpoch === '') return; // it never had a state
      const key = keyOf(store.currentEpoch);
      if (!states.take(key)) {
        try {
          states.add(key, () => store);
        } catch (error) {
          if (error instanceof LimitError) return; // no room to hold it: it goes now
          throw error;
        }
      }
      states.unloadLater(key, store, connectionGraceMs);
    });
  }

  private newStore(topic: string, storage: Storage, after: Promise<void> | undefined, onIdle: (store: StateStore) => void): StateStore {
    const { handler, maxVersion, handlerTimeoutMs, maxStateBytes } = this;
    return new StateStore(topic, { handler, storage, maxVersion, handlerTimeoutMs, maxStateBytes, logger: this.context.logger, after, onIdle });
  }
}

/** Finds the first route whose pattern matches a topic, in the order routes were given. */
export class Router {
  private readonly routes: Route[];

  constructor(routes: readonly RouteOptions[], context: RouteContext) {
    this.routes = routes.map((options, index) => new Route(options, context, `routes[${index}]`));
  }

  match(topic: string): Route | undefined {
    return this.routes.find((route) => route.matches(topic));
  }
}
