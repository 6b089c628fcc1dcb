import type { SocketInfo } from '../handler.js';
import type { Logger } from '../logger.js';
import type { Member } from '../state/state-store.js';
import type { Position } from '../storage/storage.js';
import { encode, encodeRaw, type Message } from '../transport/serializer.js';
import type { TopicState } from './topic-state.js';

/** The part of a socket a channel writes to. */
export interface ChannelTransport {
  readonly info: SocketInfo;
  /** Sends a text frame: its JSON text, or those bytes as UTF-8. */
  send(frame: string | Buffer): void;
  reply(message: Message, status: 'ok' | 'error', response: unknown): void;
  readonly limits: { readonly maxPendingEvents: number };
  readonly logger: Logger;
}

const EVENT_PREFIX = 'lvs_evt:';

/** One joined topic on one socket: frames in, the store's pushes out, tagged with this join's ref. */
export class Channel implements Member {
  private closed = false;
  /** The refresh queued for this channel: `lvs_refresh` frames that arrive before it is answered share its answer. */
  private refreshing: Promise<void> | undefined;
  /** Events sent on this channel that are waiting or running. */
  private pendingEvents = 0;
  /** Whether the last event was refused as busy, so a flood is logged once, not once per frame. */
  private refusing = false;

  constructor(
    private readonly transport: ChannelTransport,
    readonly topic: string,
    readonly joinRef: string | null,
    readonly params: Record<string, unknown>,
    private readonly store: TopicState,
    private readonly resume?: Position,
  ) {}

  get socket(): SocketInfo {
    return this.transport.info;
  }

  start(): Promise<void> {
    return this.store.join(this, this.params, this.resume);
  }

  handleIn(message: Message): void {
    if (message.event.startsWith(EVENT_PREFIX)) {
      void this.handleEvent(message);
    } else if (message.event === 'lvs_refresh') {
      this.refreshing ??= this.store.refresh(this, this.params).finally(() => (this.refreshing = undefined));
    } else {
      this.transport.reply(message, 'error', { reason: `unknown event "${message.event}"` });
    }
  }

  /**
   * Runs a client event and acknowledges it (protocol.md §4) after its patch or its `error` push.
   * Past `maxPendingEvents` waiting or running, it fails at once: the topic's queue is shared, and
   * one client must not fill it.
   */
  private async handleEvent(message: Message): Promise<void> {
    const name = message.event.slice(EVENT_PREFIX.length);
    const { maxPendingEvents } = this.transport.limits;
    if (this.pendingEvents >= maxPendingEvents) {
      const reason = `busy: ${maxPendingEvents} events of this channel are still waiting or running (maxPendingEvents)`;
      if (!this.refusing) this.transport.logger.warn(`socket ${this.socket.id}: "${this.topic}": events refused: ${reason}`);
      this.refusing = true;
      this.push('error', { message: reason, event: name });
      this.transport.reply(message, 'error', { reason });
      return;
    }
    this.refusing = false;
    this.pendingEvents++;
    const outcome = await this.store.handleEvent(this, name, message.payload).finally(() => this.pendingEvents--);
    if (this.closed) return;
    if (outcome.ok) this.transport.reply(message, 'ok', { version: outcome.version });
    else this.transport.reply(message, 'error', { reason: outcome.reason });
  }

  push(event: string, payload: unknown): void {
    this.transport.send(encode(this.joinRef, null, this.topic, event, payload));
  }

  pushEncoded(event: string, payloadJson: string): void {
    this.transport.send(encodeRaw(this.joinRef, null, this.topic, event, payloadJson));
  }

  sendBroadcast(frame: Buffer): void {
    this.transport.send(frame);
  }

  /** Detaches from the store and tells the client the channel is closed. */
  close(): void {
    this.detach();
    this.transport.send(encode(this.joinRef, this.joinRef, this.topic, 'phx_close', {}));
  }

  /** Detaches from the store without a word to the client (its socket is gone). */
  detach(): void {
    this.closed = true;
    this.store.leave(this);
  }
}
