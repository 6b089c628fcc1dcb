import { Socket, type Channel } from 'phoenix';
import { resumableChannel } from './resumable-channel.js';

interface SharedChannel {
  channel: Channel;
  /** The join params, canonical (keys sorted), to tell whether another LiveState may share this channel. */
  params: string;
  users: number;
}

interface SharedSocket {
  socket: Socket;
  users: number;
  channels: Map<string, SharedChannel>;
}

/** A channel lent by {@link acquireChannel}. */
export interface ChannelLease {
  channel: Channel;
  socket: Socket;
  /** Whether another LiveState already sent the join. */
  joined: boolean;
  /** Gives the channel back: the last user leaves it, and closes its socket. Calling it again does nothing. */
  release(): void;
}

const sockets = new Map<string, SharedSocket[]>();

const sortedKeys = (_key: string, value: unknown): unknown =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : value;

/**
 * Phoenix Sockets per URL and Channels on them, shared by every LiveState that asks for
 * the same topic with equal params, and closed when the last one lets go. Sharing the
 * channel is not only thrift: a second join of a topic on one socket would make the
 * server close the first. So a LiveState whose params differ gets a socket on which
 * that topic is free (a new one if there is none).
 */
export function acquireChannel(url: string, topic: string, params: object, socketOptions: object | undefined): ChannelLease {
  const key = JSON.stringify(params, sortedKeys);
  const onUrl = sockets.get(url) ?? [];
  sockets.set(url, onUrl);
  const shared =
    onUrl.find((candidate) => candidate.channels.get(topic)?.params === key) ??
    onUrl.find((candidate) => !candidate.channels.has(topic)) ??
    openSocket(onUrl, url, socketOptions);
  const existing = shared.channels.get(topic);
  const entry = existing ?? { channel: resumableChannel(shared.socket, topic, params), params: key, users: 0 };
  shared.channels.set(topic, entry);
  shared.users++;
  entry.users++;
  let released = false;
  return {
    channel: entry.channel,
    socket: shared.socket,
    joined: existing !== undefined,
    release() {
      if (released) return;
      released = true;
      if (--entry.users === 0) {
        entry.channel.leave();
        shared.channels.delete(topic);
      }
      if (--shared.users === 0) {
        shared.socket.disconnect();
        onUrl.splice(onUrl.indexOf(shared), 1);
        if (onUrl.length === 0) sockets.delete(url);
      }
    },
  };
}

function openSocket(onUrl: SharedSocket[], url: string, socketOptions: object | undefined): SharedSocket {
  const shared: SharedSocket = { socket: new Socket(url, socketOptions ?? {}), users: 0, channels: new Map() };
  onUrl.push(shared);
  shared.socket.connect();
  return shared;
}
