import type { LiveStateHandler } from '../handler.js';
import type { Logger } from '../logger.js';
import { StateStore } from '../state/state-store.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import type { Storage } from '../storage/storage.js';
import type { TopicState } from './topic-state.js';

/**
 * Where a topic's state lives:
 * - `connection`: every join gets a state of its own (the original LiveState);
 * - `topic`: one state per topic, shared by every member and kept in the server's storage.
 */
export type Scope = 'connection' | 'topic';

export interface RouteOptions {
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
  /** Where topic-scoped states live when not in this process (a cluster's topics). */
  sharedState?: (topic: string, route: Route) => TopicState;
}

/** A topic pattern bound to a handler, owning the states of the topics it matches. */
export class Route {
  readonly pattern: string;
  readonly scope: Scope;
  private readonly prefix: string | undefined;
  readonly maxVersion: number;
  private readonly sharedStores = new Map<string, StateStore>();

  constructor(
    private readonly options: RouteOptions,
    private readonly context: RouteContext,
  ) {
    const { topic, scope = 'connection', maxVersion = 1000 } = options;
    const star = topic.indexOf('*');
    if (topic === '' || (star !== -1 && star !== topic.length - 1)) {
      throw new Error(`invalid topic pattern "${topic}": "*" may only end a pattern`);
    }
    if (scope !== 'connection' && scope !== 'topic') {
      throw new Error(`invalid scope "${String(scope)}": expected "connection" or "topic"`);
    }
    if (!Number.isInteger(maxVersion) || maxVersion < 1) {
      throw new Error(`invalid maxVersion ${maxVersion}: expected a positive integer`);
    }
    this.pattern = topic;
    this.prefix = star === -1 ? undefined : topic.slice(0, -1);
    this.scope = scope;
    this.maxVersion = maxVersion;
  }

  get handler(): LiveStateHandler {
    return this.options.handler as LiveStateHandler;
  }

  matches(topic: string): boolean {
    return this.prefix === undefined ? topic === this.pattern : topic.startsWith(this.prefix);
  }

  /** The store a new join of `topic` attaches to. */
  storeFor(topic: string): TopicState {
    // A connection's state is its own: it lives in memory, in a storage of its own.
    if (this.scope === 'connection') return this.newStore(topic, new MemoryStorage());
    if (this.context.sharedState) return this.context.sharedState(topic, this);
    let store = this.sharedStores.get(topic);
    if (!store) {
      store = this.newStore(topic, this.context.storage);
      this.sharedStores.set(topic, store);
    }
    return store;
  }

  private newStore(topic: string, storage: Storage): StateStore {
    return new StateStore(topic, { handler: this.handler, storage, maxVersion: this.maxVersion, logger: this.context.logger });
  }
}

/** Finds the first route whose pattern matches a topic, in the order routes were given. */
export class Router {
  private readonly routes: Route[];

  constructor(routes: readonly RouteOptions[], context: RouteContext) {
    this.routes = routes.map((options) => new Route(options, context));
  }

  match(topic: string): Route | undefined {
    return this.routes.find((route) => route.matches(topic));
  }
}
