import type { WebSocket, RawData } from 'ws';
import { Channel, type ChannelTransport } from '../channels/channel.js';
import { takeResume } from '../channels/resume.js';
import type { Router } from '../channels/route.js';
import type { TopicState } from '../channels/topic-state.js';
import type { Authorization, SocketInfo } from '../handler.js';
import { errorText } from '../error-text.js';
import { reportHandlerFailure } from '../handler-failure.js';
import type { Logger } from '../logger.js';
import { callHandler } from '../state/handler-result.js';
import { LimitError } from '../state/state-cache.js';
import { decode, encode, replyPayload, type Message } from './serializer.js';

const PHOENIX_TOPIC = 'phoenix';

/** ws sends a Buffer as a binary frame unless told otherwise; every frame of the protocol is text. */
const TEXT_FRAME = { binary: false } as const;

const mebibytes = (bytes: number): string => `${+(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** What one socket may hold: the server's options, for every socket alike. */
export interface SocketLimits {
  /** Bytes waiting to be sent past which the client is taken as not reading and dropped. */
  readonly maxBufferedBytes: number;
  /** Channels joined at once. */
  readonly maxChannels: number;
  /** Events of one channel waiting or running at once. */
  readonly maxPendingEvents: number;
  /** The longest topic a join may name, in bytes of UTF-8. */
  readonly maxTopicBytes: number;
}

/**
 * One client connection: decodes frames, answers heartbeats and routes the rest
 * to the channels it has joined. Nothing a client sends can throw out of here;
 * a bad frame is answered with an error and the socket carries on.
 */
export class LiveSocket implements ChannelTransport {
  /** When the client last sent anything, for closing dead peers. */
  lastSeen = Date.now();
  private readonly channels = new Map<string, Channel>();
  /**
   * The latest join message per topic, so a join superseded while it was being authorized is dropped;
   * the message itself, not its client-chosen join_ref, since two joins may carry the same one.
   */
  private readonly latestJoins = new Map<string, Message>();

  constructor(
    private readonly ws: WebSocket,
    readonly info: SocketInfo,
    private readonly router: Router,
    readonly logger: Logger,
    readonly limits: SocketLimits,
    /** Holds this socket's writes until the turn ends (see TurnBatch). */
    private readonly holdWrites: () => void,
  ) {
    ws.on('message', (data, isBinary) => this.receive(data, isBinary));
    ws.on('close', () => this.closeChannels());
    ws.on('error', (error) => this.logger.warn(`socket ${info.id}: ${error.message}`));
  }

  /**
   * Sends a frame, unless the client has stopped reading: frames it has not taken would pile up
   * in the server's memory, so past `maxBufferedBytes` the socket is dropped at once (a close
   * handshake would wait behind the same backlog). Frames held until the turn ends count as waiting.
   */
  send(frame: string | Buffer): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.limits.maxBufferedBytes) {
      this.logger.warn(`socket ${this.info.id} closed: ${mebibytes(buffered)} waiting to be sent, over the limit of ${mebibytes(this.limits.maxBufferedBytes)} (the client is not reading)`);
      this.ws.terminate();
      return;
    }
    this.holdWrites();
    this.ws.send(frame, TEXT_FRAME);
  }

  reply(message: Message, status: 'ok' | 'error', response: unknown): void {
    this.send(encode(message.joinRef, message.ref, message.topic, 'phx_reply', replyPayload(status, response)));
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  private receive(data: RawData, isBinary: boolean): void {
    this.lastSeen = Date.now();
    if (isBinary) {
      this.sendProtocolError('binary frames are not supported: send JSON text frames');
      return;
    }
    const result = decode(data.toString());
    if (!result.ok) {
      if (result.ref === null) this.sendProtocolError(result.reason);
      else this.send(encode(null, result.ref, result.topic ?? PHOENIX_TOPIC, 'phx_reply', replyPayload('error', { reason: result.reason })));
      return;
    }
    try {
      this.route(result.message);
    } catch (error) {
      this.logger.error(`socket ${this.info.id}: ${errorText(error)}`);
      this.reply(result.message, 'error', { reason: 'internal error' });
    }
  }

  /** An error that cannot be tied to a push: sent on the `phoenix` topic, like heartbeats. */
  private sendProtocolError(reason: string): void {
    this.send(encode(null, null, PHOENIX_TOPIC, 'phx_error', { reason }));
  }

  private route(message: Message): void {
    const { topic, event } = message;
    if (topic === PHOENIX_TOPIC) {
      if (event === 'heartbeat') this.reply(message, 'ok', {});
      else this.reply(message, 'error', { reason: `unknown event "${event}" on the phoenix topic` });
      return;
    }
    if (event === 'phx_join') {
      this.join(message).catch((error: unknown) => {
        this.logger.error(`socket ${this.info.id}: joining ${topic} failed: ${errorText(error)}`);
      });
      return;
    }
    const channel = this.channels.get(topic);
    if (!channel) {
      this.reply(message, 'error', { reason: 'unmatched topic' });
    } else if (event === 'phx_leave') {
      this.reply(message, 'ok', {});
      this.channels.delete(topic);
      this.latestJoins.delete(topic);
      channel.close();
    } else {
      channel.handleIn(message);
    }
  }

  private async join(message: Message): Promise<void> {
    const { topic } = message;
    const topicBytes = Buffer.byteLength(topic);
    if (topicBytes > this.limits.maxTopicBytes) {
      // Refused before anything keeps the name: each channel, state and stored entry holds a copy.
      const reason = `topic too long: ${topicBytes} bytes, over the limit of ${this.limits.maxTopicBytes} bytes (maxTopicBytes)`;
      const shown = topic.length > 64 ? `${JSON.stringify(topic.slice(0, 64))}...` : JSON.stringify(topic);
      this.logger.warn(`socket ${this.info.id}: join of ${shown} refused: ${reason}`);
      this.reply(message, 'error', { reason });
      return;
    }
    const { params, resume } = takeResume(message.payload);
    const route = this.router.match(topic);
    if (!route) {
      this.reply(message, 'error', { reason: 'unmatched topic' });
      return;
    }
    if (!this.latestJoins.has(topic) && this.latestJoins.size >= this.limits.maxChannels) {
      this.reply(message, 'error', { reason: `too many channels on this socket: at most ${this.limits.maxChannels}` });
      return;
    }
    // A second join of a joined topic replaces the first.
    this.channels.get(topic)?.close();
    this.channels.delete(topic);
    this.latestJoins.set(topic, message);

    let authorization: Authorization;
    try {
      const { handler, handlerTimeoutMs } = route;
      authorization =
        (await callHandler(handler, 'authorize', handlerTimeoutMs, () => handler.authorize?.(topic, params, this.info))) ?? true;
    } catch (error) {
      authorization = `authorization failed: ${reportHandlerFailure(this.logger, topic, 'authorize', error)}`;
    }
    if (this.latestJoins.get(topic) !== message || this.ws.readyState !== this.ws.OPEN) return;
    if (authorization !== true) {
      this.latestJoins.delete(topic);
      this.reply(message, 'error', { reason: typeof authorization === 'string' ? authorization : 'unauthorized' });
      return;
    }
    let store: TopicState;
    try {
      store = route.storeFor(topic, resume);
    } catch (error) {
      if (!(error instanceof LimitError)) throw error;
      this.latestJoins.delete(topic);
      this.logger.warn(`socket ${this.info.id}: join of "${topic}" refused: ${error.message}`);
      this.reply(message, 'error', { reason: error.message });
      return;
    }
    const channel = new Channel(this, topic, message.joinRef, params, store, resume);
    this.channels.set(topic, channel);
    this.reply(message, 'ok', {});
    await channel.start();
  }

  private closeChannels(): void {
    for (const channel of this.channels.values()) channel.detach();
    this.channels.clear();
    this.latestJoins.clear();
  }
}
