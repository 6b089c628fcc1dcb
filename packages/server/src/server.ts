import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  checkHandlerLimits,
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_MAX_STATE_BYTES,
  Router,
  type HandlerLimits,
  type RouteOptions,
} from './channels/route.js';
import { checkClusterOptions, ClusterNode, type ClusterOptions } from './cluster/cluster-node.js';
import { errorText } from './error-text.js';
import type { SocketInfo } from './handler.js';
import { consoleLogger, type Logger } from './logger.js';
import {
  checkArray,
  checkFunction,
  checkObject,
  checkOptionalFunction,
  checkOptionalNonNegativeInteger,
  checkOptionalPositiveInteger,
  checkOptionalString,
} from './option-checks.js';
import { MAX_JSON_DEPTH, nestedDeeperThan, tooDeepText } from './state/json-depth.js';
import { StateCache } from './state/state-cache.js';
import { MemoryStorage } from './storage/memory-storage.js';
import type { Position, Storage } from './storage/storage.js';
import type { Payload } from './transport/serializer.js';
import { IdleSweeper } from './transport/idle-sweeper.js';
import { requestTimeouts } from './transport/request-timeouts.js';
import { LiveSocket, type SocketLimits } from './transport/socket.js';
import { parseSocketParams } from './transport/socket-params.js';
import { TurnBatch } from './transport/turn-batch.js';

export interface ConnectInfo {
  /** The socket params from the query string (phoenix.js `params`). */
  params: Payload;
  /** The phoenix.js `authToken` socket option, carried in `Sec-WebSocket-Protocol`. */
  authToken: string | undefined;
  request: IncomingMessage;
}

/** `false` refuses the socket (HTTP 403); an object becomes the socket's `assigns`. */
export type ConnectResult = boolean | Record<string, unknown> | void;

/** `handlerTimeoutMs` and `maxStateBytes` are the defaults for routes that set none. */
export interface LiveStateServerOptions extends HandlerLimits {
  routes: readonly RouteOptions[];
  /** Where clients point phoenix.js: `ws://host:port<path>`. Default `/socket`. */
  path?: string;
  /** Frames larger than this close the socket with code 1009. Default 1 MiB. */
  maxFrameBytes?: number;
  /** Sockets silent for this long are closed: about two phoenix.js heartbeats. Default 60,000. */
  idleTimeoutMs?: number;
  /**
   * A socket with more than this many bytes still waiting to be sent when the next frame comes
   * (a client that stopped reading) is closed. Default 4 MiB.
   */
  maxBufferedBytes?: number;
  /**
   * When set, only these `Origin` headers may open a socket (HTTP 403 otherwise); a function
   * decides for itself (`origin` is undefined when the client sent none).
   */
  origins?: readonly string[] | ((origin: string | undefined, request: IncomingMessage) => boolean);
  /** Decides whether a socket may connect, and what it carries (its `assigns`). */
  connect?: (info: ConnectInfo) => ConnectResult | Promise<ConnectResult>;
  /**
   * Where topic-scoped states are kept; the server closes it when it closes. Default: a
   * {@link MemoryStorage}, which keeps nothing across restarts. Pass a `SqliteStorage` to
   * keep states in a file (`livestate serve` does, by default).
   */
  storage?: Storage;
  /**
   * The most states held in memory (topic-scoped ones, and connection-scoped ones in their
   * grace period); least recently used ones with no members are unloaded to make room, and a
   * join that finds every one in use is refused. Default 10,000.
   */
  maxStates?: number;
  /**
   * A topic-scoped state with no members is unloaded from memory after this long (it stays
   * stored; a {@link MemoryStorage} keeps at most its `maxTopics`). In a cluster, a topic a
   * node owns that gets no request for this long is handed back (lease released); the next
   * request takes it again from Redis. Default 30,000.
   */
  unloadAfterMs?: number;
  /** A connection-scoped state is kept this long after its channel goes, for its client to resume it. Default 60,000. */
  connectionGraceMs?: number;
  /**
   * The longest topic a client may join, in bytes of UTF-8; a longer join is refused. Frames
   * alone would allow topics of nearly `maxFrameBytes`, each kept by its channel, state and
   * stored entry. Default 1,024.
   */
  maxTopicBytes?: number;
  /** The most channels one socket may have joined at once. Default 100. */
  maxChannelsPerSocket?: number;
  /**
   * The most events of one channel that may be waiting or running at once; one more fails at
   * once with a `busy` error, so a client cannot queue unbounded work on a topic. Default 100.
   */
  maxPendingEvents?: number;
  logger?: Logger;
  /**
   * Runs this server as one node of a cluster coordinated through Redis: topic-scoped states
   * are owned by one node at a time, stored in Redis and shared by members on every node.
   * Without it, everything stays in this process.
   */
  cluster?: ClusterOptions;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  /** A connection that has not sent a whole request (headers and body) in this time gets 408 and is closed. Default 10,000. */
  requestTimeoutMs?: number;
}

const PHOENIX_SUBPROTOCOL = 'phoenix';
const DEFAULT_MAX_TOPIC_BYTES = 1024;


const AUTH_TOKEN_PREFIX = 'base64url.bearer.phx.';

/** Answers an upgrade request with an HTTP error; `body` defaults to the status text. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, body = reason): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

function authTokenOf(request: IncomingMessage): string | undefined {
  const offered = request.headers['sec-websocket-protocol']?.split(',').map((value) => value.trim()) ?? [];
  const token = offered.find((value) => value.startsWith(AUTH_TOKEN_PREFIX));
  return token && Buffer.from(token.slice(AUTH_TOKEN_PREFIX.length), 'base64url').toString('utf8');
}

/** How long a peer gets to answer a close frame before its connection is cut. */
const CLOSE_GRACE_MS = 1000;

async function closeAll(clients: WebSocket[]): Promise<void> {
  await Promise.all(
    clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          const cut = setTimeout(() => client.terminate(), CLOSE_GRACE_MS);
          client.once('close', () => {
            clearTimeout(cut);
            resolve();
          });
          client.close(1001, 'server shutting down');
        }),
    ),
  );
}

/**
 * A LiveState endpoint: the Phoenix Channels v2 protocol over `ws`, with topics
 * routed to LiveState handlers. Attach it to an existing `node:http` server or let
 * it {@link listen} on its own.
 */
export class LiveStateServer {
  readonly path: string;
  private readonly router: Router;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<LiveSocket>();
  private readonly turnBatch = new TurnBatch();
  private readonly sweeper: IdleSweeper;
  private readonly logger: Logger;
  private readonly storage: Storage;
  private readonly states: StateCache;
  private readonly socketLimits: SocketLimits;
  private httpServer: HttpServer | undefined;
  private ownsHttpServer = false;
  private nextSocketId = 1;
  private cluster: ClusterNode | undefined;
  private readonly clusterReady: Promise<void>;

  constructor(private readonly options: LiveStateServerOptions) {
    checkServerOptions(options);
    this.path = (options.path ?? '/socket').replace(/\/+$/, '');
    this.logger = options.logger ?? consoleLogger;
    this.storage = options.storage ?? new MemoryStorage();
    this.states = new StateCache(options.maxStates ?? 10_000);
    this.socketLimits = {
      maxBufferedBytes: options.maxBufferedBytes ?? 4 * 1024 * 1024,
      maxChannels: options.maxChannelsPerSocket ?? 100,
      maxPendingEvents: options.maxPendingEvents ?? 100,
      maxTopicBytes: options.maxTopicBytes ?? DEFAULT_MAX_TOPIC_BYTES,
    };
    const { cluster, unloadAfterMs = 30_000 } = options;
    this.router = new Router(options.routes, {
      storage: this.storage,
      logger: this.logger,
      limits: {
        handlerTimeoutMs: options.handlerTimeoutMs ?? DEFAULT_HANDLER_TIMEOUT_MS,
        maxStateBytes: options.maxStateBytes ?? DEFAULT_MAX_STATE_BYTES,
      },
      states: this.states,
      unloadAfterMs,
      connectionGraceMs: options.connectionGraceMs ?? 60_000,
      ...(cluster
        ? {
            sharedState: (topic: string) => this.cluster!.topicFor(topic),
            connectionStorage: (topic: string, resume: Position | undefined) => this.cluster!.connectionStorage(topic, resume),
          }
        : {}),
    });
    this.clusterReady = cluster
      ? ClusterNode.start(cluster, this.router, this.logger, unloadAfterMs).then((node) => void (this.cluster = node))
      : Promise.resolve();
    // Reported by ready() and listen(); sockets wait for it.
    this.clusterReady.catch(() => undefined);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxFrameBytes ?? 1024 * 1024,
      handleProtocols: (protocols) => (protocols.has(PHOENIX_SUBPROTOCOL) ? PHOENIX_SUBPROTOCOL : false),
    });
    this.sweeper = new IdleSweeper(this.sockets, options.idleTimeoutMs ?? 60_000);
  }

  /** Resolves once the server can serve sockets: at once, or when its cluster node has connected to Redis. */
  ready(): Promise<void> {
    return this.clusterReady;
  }

  /** Serves sockets from an existing HTTP server's upgrade requests. */
  attach(server: HttpServer): this {
    if (this.httpServer) throw new Error('this LiveStateServer is already attached to an HTTP server');
    this.httpServer = server;
    server.on('upgrade', (request, socket, head) => {
      const onlyListener = server.listenerCount('upgrade') === 1;
      this.upgrade(request, socket, head, onlyListener).catch((error: unknown) => {
        this.logger.error(`upgrade of ${request.url} failed: ${errorText(error)}`);
        socket.destroy();
      });
    });
    return this;
  }

  /** Starts an HTTP server of its own; `port: 0` picks a free port. */
  async listen({ port = 4000, host = '127.0.0.1', requestTimeoutMs }: ListenOptions = {}): Promise<AddressInfo> {
    await this.clusterReady;
    const server = createHttpServer(requestTimeouts(requestTimeoutMs), (_request, response) => {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
    });
    this.attach(server);
    this.ownsHttpServer = true;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return this.address()!;
  }

  address(): AddressInfo | undefined {
    const address = this.httpServer?.address();
    return address && typeof address === 'object' ? address : undefined;
  }

  /** The URL to give phoenix.js, e.g. `ws://127.0.0.1:4000/socket`. */
  get url(): string {
    const address = this.address();
    if (!address) throw new Error('the server is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `ws://${host}:${address.port}${this.path}`;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Hands the cluster's topics over (when a node), closes every socket with a close frame
   * (1001, so clients reconnect at once), the storage and, if it started one, the HTTP server.
   */
  async close(): Promise<void> {
    this.sweeper.stop();
    await this.cluster?.close();
    await closeAll([...this.wss.clients]);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.states.clear();
    await this.storage.close();
    const server = this.httpServer;
    if (server && this.ownsHttpServer) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, onlyListener: boolean): Promise<void> {
    // Node stops watching an upgrading socket for errors: a client that resets it
    // while the cluster or the connect hook is awaited would otherwise crash the process.
    const onSocketError = (error: Error) => this.logger.warn(`upgrade of ${request.url}: ${error.message}`);
    socket.on('error', onSocketError);
    try {
      await this.clusterReady;
    } catch {
      refuseUpgrade(socket, 503, 'Service Unavailable');
      return;
    }
    const url = URL.parse(request.url ?? '/', 'http://localhost');
    if (url === null) {
      if (onlyListener) refuseUpgrade(socket, 400, 'Bad Request', 'the request URL cannot be parsed');
      return;
    }
    if (url.pathname !== `${this.path}/websocket` && url.pathname !== this.path) {
      // Another upgrade listener on a shared server may own this path.
      if (onlyListener) refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    const { origins, connect } = this.options;
    const origin = request.headers.origin;
    if (origins && !(typeof origins === 'function' ? origins(origin, request) : origins.includes(origin ?? ''))) {
      refuseUpgrade(socket, 403, 'Forbidden origin');
      return;
    }
    const vsn = url.searchParams.get('vsn');
    if (vsn !== null && !vsn.startsWith('2.')) {
      refuseUpgrade(socket, 400, `Unsupported serializer version ${vsn}: this server speaks 2.0.0`);
      return;
    }
    const params = parseSocketParams(url.searchParams);
    if (nestedDeeperThan(params, MAX_JSON_DEPTH)) {
      // `a[b][c]...` in a query string nests a level every three bytes: thousands within a request line.
      const reason = `the socket params are ${tooDeepText(MAX_JSON_DEPTH)}`;
      this.logger.warn(`upgrade of ${url.pathname} refused: ${reason}`);
      refuseUpgrade(socket, 400, 'Bad Request', reason);
      return;
    }
    let assigns: Record<string, unknown> = {};
    if (connect) {
      let result: ConnectResult;
      try {
        result = await connect({ params, authToken: authTokenOf(request), request });
      } catch (error) {
        this.logger.warn(`connect hook failed: ${errorText(error)}`);
        result = false;
      }
      if (result === false) {
        refuseUpgrade(socket, 403, 'Forbidden');
        return;
      }
      if (typeof result === 'object' && result !== null) assigns = result;
    }
    socket.off('error', onSocketError);
    if (socket.destroyed) return;
    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const info: SocketInfo = { id: String(this.nextSocketId++), params, assigns };
      // ws writes its frames to the upgrade's socket: holding that holds them.
      const live = new LiveSocket(ws, info, this.router, this.logger, this.socketLimits, () => this.turnBatch.hold(socket));
      this.sockets.add(live);
      ws.on('close', () => this.sockets.delete(live));
    });
  }
}

function checkServerOptions(options: LiveStateServerOptions): void {
  checkObject(options, 'LiveStateServer options');
  checkArray(options.routes, 'routes (the list of {topic, handler} a LiveStateServer serves)');
  checkOptionalString(options.path, 'path');
  checkOptionalPositiveInteger(options.maxFrameBytes, 'maxFrameBytes');
  checkOptionalPositiveInteger(options.idleTimeoutMs, 'idleTimeoutMs');
  checkOptionalPositiveInteger(options.maxBufferedBytes, 'maxBufferedBytes');
  checkOptionalPositiveInteger(options.maxStates, 'maxStates');
  checkOptionalPositiveInteger(options.maxChannelsPerSocket, 'maxChannelsPerSocket');
  checkOptionalPositiveInteger(options.maxPendingEvents, 'maxPendingEvents');
  checkOptionalPositiveInteger(options.maxTopicBytes, 'maxTopicBytes');
  checkJoinableRoutes(options.routes, options.maxTopicBytes ?? DEFAULT_MAX_TOPIC_BYTES);
  checkOptionalNonNegativeInteger(options.unloadAfterMs, 'unloadAfterMs');
  checkOptionalNonNegativeInteger(options.connectionGraceMs, 'connectionGraceMs');
  if (options.cluster !== undefined) checkClusterOptions(options.cluster);
  if (options.origins !== undefined && typeof options.origins !== 'function') {
    checkArray(options.origins, 'origins (a list of allowed Origin headers, or a function)');
  }
  checkOptionalFunction(options.connect, 'connect');
  if (options.logger !== undefined) {
    checkObject(options.logger, 'logger');
    for (const level of ['info', 'warn', 'error'] as const) checkFunction(options.logger[level], `logger.${level}`);
  }
  checkHandlerLimits(options, '');
}

/** A route whose topic (or prefix) is longer than `maxTopicBytes` could never be joined: a mistake to report at once. */
function checkJoinableRoutes(routes: readonly RouteOptions[], maxTopicBytes: number): void {
  routes.forEach((route, index) => {
    const topic = typeof route?.topic === 'string' ? route.topic.replace(/\*$/, '') : '';
    const bytes = Buffer.byteLength(topic);
    if (bytes > maxTopicBytes) {
      throw new TypeError(`invalid routes[${index}].topic: ${bytes} bytes, longer than maxTopicBytes (${maxTopicBytes}), so no client could join it`);
    }
  });
}
