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
  let onUrl = sockets.get(url);
  if (!onUrl) sockets.set(url, (onUrl = []));
  let shared = onUrl.find((candidate) => candidate.channels.get(topic)?.params === key) ?? onUrl.find((candidate) => !candidate.channels.has(topic));
  if (!shared) {
    shared = { socket: new Socket(url, socketOptions ?? {}), users: 0, channels: new Map() };
    onUrl.push(shared);
    shared.socket.connect();
  }
  let entry = shared.channels.get(topic);
  const joined = entry !== undefined;
  if (!entry) shared.channels.set(topic, (entry = { channel: resumableChannel(shared.socket, topic, params), params: key, users: 0 }));
  shared.users++;
  entry.users++;
  const [socketEntry, channelEntry, list] = [shared, entry, onUrl];
  let released = false;
  return {
    channel: entry.channel,
    socket: shared.socket,
    joined,
    release() {
      if (released) return;
      released = true;
      if (--channelEntry.users === 0) {
        channelEntry.channel.leave();
        socketEntry.channels.delete(topic);
      }
      if (--socketEntry.users === 0) {
        socketEntry.socket.disconnect();
        list.splice(list.indexOf(socketEntry), 1);
        if (list.length === 0) sockets.delete(url);
      }
    },
  };
}
