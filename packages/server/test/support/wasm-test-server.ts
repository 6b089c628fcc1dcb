import { after, before } from 'node:test';
import { GuestPool, wasmHandler, type LiveStateServer, type RouteOptions, type WasmHandler, type WasmHandlerOptions } from '@livestate/server';
import { CaptureLogger } from './capture-logger.js';
import { joinTopic, RawClient, startServer } from './clients.js';

type Load = (path: string, options?: WasmHandlerOptions) => Promise<WasmHandler>;

/**
 * A server of WebAssembly routes on a pool of its own, for one test file: the file's `before`
 * starts it, its `after` closes it with every handler and client the file made through it.
 */
export class WasmTestServer {
  readonly logger = new CaptureLogger();
  server!: LiveStateServer;
  pool!: GuestPool;
  /** Every handler loaded through {@link load}, in order. */
  readonly handlers: WasmHandler[] = [];
  private readonly clients: RawClient[] = [];
  private topicCount = 0;

  constructor(routes: (load: Load) => Promise<RouteOptions[]>) {
    before(async () => {
      this.pool = new GuestPool(2);
      this.server = await startServer({ logger: this.logger, routes: await routes(this.load) });
    });
    after(async () => {
      for (const client of this.clients) client.close();
      for (const handler of this.handlers) handler.close();
      await this.server.close();
      await this.pool.close();
    });
  }

  /** Loads a handler on this server's pool, closed after the file. */
  readonly load: Load = async (path, options = {}) => {
    const handler = await wasmHandler(path, { pool: this.pool, logger: this.logger, watch: false, ...options });
    this.handlers.push(handler);
    return handler;
  };

  /** A raw client of `url`, closed after the file. */
  readonly connect = async (url: string): Promise<RawClient> => {
    const client = await RawClient.connect(url);
    this.clients.push(client);
    return client;
  };

  /** A raw client joined to a fresh topic under `prefix` (or to `topic`), with its initial state read. */
  readonly joined = async (prefix: string, params: object = {}, { topic = `${prefix}:${++this.topicCount}`, url = this.server.url } = {}) => {
    const topicClient = await joinTopic(url, topic, params);
    this.clients.push(topicClient.client);
    return topicClient;
  };
}
