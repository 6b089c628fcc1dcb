import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Socket, type Channel } from 'phoenix';
import { WebSocket } from 'ws';
import { LiveStateServer, type LiveStateServerOptions } from '@livestate/server';

/** A real server on a free loopback port, closed by the caller. */
export async function startServer(options: LiveStateServerOptions): Promise<LiveStateServer> {
  const server = new LiveStateServer({ logger: quietLogger, ...options });
  await server.listen({ port: 0 });
  return server;
}

export const quietLogger = { info() {}, warn() {}, error() {} };

export type Frame = [string | null, string | null, string, string, any];

/**
 * A client that speaks raw Phoenix frames, for what the official client never
 * sends: malformed frames, stale refs, oversized payloads.
 */
export class RawClient {
  readonly frames: Frame[] = [];
  private cursor = 0;
  private waiters: Array<() => void> = [];
  private nextRef = 1;
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  static async connect(url: string, protocols?: string[], headers?: Record<string, string>): Promise<RawClient> {
    const ws = new WebSocket(`${url}/websocket?vsn=2.0.0`, protocols, { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }

  ref(): string {
    return String(this.nextRef++);
  }

  sendText(text: string): void {
    this.ws.send(text);
  }

  send(frame: Frame): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Joins and returns the join_ref; the reply and initial state are left in the stream. */
  join(topic: string, params: object = {}): string {
    const ref = this.ref();
    this.send([ref, ref, topic, 'phx_join', params]);
    return ref;
  }

  /** The next frame, in arrival order, that matches; earlier frames that do not match are skipped. */
  async next(match: (frame: Frame) => boolean = () => true, what = 'a frame'): Promise<Frame> {
    for (;;) {
      while (this.cursor < this.frames.length) {
        const frame = this.frames[this.cursor++]!;
        if (match(frame)) return frame;
      }
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) while waiting for ${what}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  nextEvent(event: string, topic?: string): Promise<Frame> {
    return this.next((f) => f[3] === event && (topic === undefined || f[2] === topic), `"${event}"`);
  }

  nextReply(ref: string): Promise<Frame> {
    return this.next((f) => f[3] === 'phx_reply' && f[1] === ref, `the reply to ${ref}`);
  }

  /**
   * Sends a heartbeat and returns every frame received before its reply: the server
   * handles a socket's frames in order, so this is everything the earlier frames caused.
   */
  async drain(): Promise<Frame[]> {
    const start = this.cursor;
    const ref = this.ref();
    this.send([null, ref, 'phoenix', 'heartbeat', {}]);
    await this.nextReply(ref);
    return this.frames.slice(start, this.cursor - 1).filter((f) => !(f[3] === 'phx_reply' && f[1] === ref));
  }

  /** Every frame from here up to and including the reply to `ref`: all that an acknowledged push caused. */
  async untilReply(ref: string): Promise<Frame[]> {
    const start = this.cursor;
    await this.nextReply(ref);
    return this.frames.slice(start, this.cursor);
  }

  async closedWith(): Promise<{ code: number; reason: string }> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.closed;
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** The official phoenix.js client on Node's `ws`, as an application would use it. */
export function phoenixSocket(url: string, options: Record<string, unknown> = {}): Socket {
  const socket = new Socket(url, { transport: WebSocket, ...options } as any);
  socket.connect();
  return socket;
}

/** Resolves with the next payload of `event` on a channel. */
export function nextPush<T = any>(channel: Channel, event: string): Promise<T> {
  return new Promise((resolve) => {
    const ref = channel.on(event, (payload) => {
      channel.off(event, ref);
      resolve(payload as T);
    });
  });
}

/** Joins and resolves with the join reply, rejecting on an error reply. */
export function joinChannel(channel: Channel): Promise<unknown> {
  return new Promise((resolve, reject) => {
    channel
      .join()
      .receive('ok', resolve)
      .receive('error', (reason) => reject(Object.assign(new Error('join refused'), { reason })))
      .receive('timeout', () => reject(new Error('join timed out')));
  });
}

/** Writes `text` on a raw TCP connection and resolves with what came back once the server closed it. */
export function sendAndWaitForClose(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    socket.setEncoding('utf8').on('data', (chunk) => (received += chunk));
    socket.on('close', () => resolve(received)).on('error', reject);
  });
}

/** A `state:change` payload without its epoch, after checking the epoch is there (protocol.md §4). */
export function withoutEpoch({ epoch, ...change }: { epoch?: unknown; [key: string]: unknown }): Record<string, unknown> {
  assert.equal(typeof epoch, 'string', 'state:change carries an epoch');
  return change;
}

/** The HTTP status of a WebSocket upgrade: 101 when the socket opens (it is then closed), else the refusal's. */
export function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', reject);
  });
}

/** The servers and raw clients a test file starts, each closed after the file's tests. */
export class TestFleet {
  private readonly servers: LiveStateServer[] = [];
  private readonly clients: RawClient[] = [];

  async server(options: LiveStateServerOptions): Promise<LiveStateServer> {
    const server = await startServer(options);
    this.servers.push(server);
    return server;
  }

  async client(server: LiveStateServer): Promise<RawClient> {
    const client = await RawClient.connect(server.url);
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    this.clients.forEach((client) => client.close());
    await Promise.all(this.servers.map((server) => server.close()));
  }
}

/** A raw client joined to `topic`, with its initial state read, and shorthands for events and refreshes. */
export async function joinTopic(url: string, topic: string, params: object = {}) {
  const client = await RawClient.connect(url);
  const joinRef = client.join(topic, params);
  const [, , , , initial] = await client.nextEvent('state:change');
  const push = (event: string, payload: object = {}) => client.send([joinRef, client.ref(), topic, `lvs_evt:${event}`, payload]);
  const refresh = async () => {
    client.send([joinRef, client.ref(), topic, 'lvs_refresh', {}]);
    return (await client.nextEvent('state:change'))[4];
  };
  return { client, topic, joinRef, initial, push, refresh };
}
