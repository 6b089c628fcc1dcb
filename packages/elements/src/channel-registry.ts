import { Socket, type Channel } from 'phoenix';

interface SharedSocket {
  socket: Socket;
  users: number;
  channels: Map<string, SharedChannel>;
}

export interface SharedChannel {
  readonly channel: Channel;
  /** Whether the join had already been sent when this user got the channel. */
  readonly joined: boolean;
}

interface ChannelEntry {
  channel: Channel;
  users: number;
}

const sockets = new Map<string, SharedSocket>();
const channelEntries = new WeakMap<Channel, ChannelEntry>();

/**
 * One phoenix Socket per URL and one Channel per topic on it, shared by every
 * LiveState that asks for them and closed when the last one lets go. Sharing the
 * channel is not only thrift: a second join of a topic on the same socket would
 * make the server close the first.
 */
export function acquireChannel(
  url: string,
  topic: string,
  params: object,
  socketOptions: object | undefined,
): SharedChannel & { socket: Socket } {
  let shared = sockets.get(url);
  if (!shared) {
    shared = { socket: new Socket(url, socketOptions ?? {}), users: 0, channels: new Map() };
    sockets.set(url, shared);
    shared.socket.connect();
  }
  shared.users++;
  const existing = shared.channels.get(topic);
  if (existing) {
    const entry = channelEntries.get(existing.channel)!;
    entry.users++;
    return { channel: existing.channel, joined: true, socket: shared.socket };
  }
  const channel = shared.socket.channel(topic, params);
  channelEntries.set(channel, { channel, users: 1 });
  shared.channels.set(topic, { channel, joined: true });
  return { channel, joined: false, socket: shared.socket };
}

/** Lets go of a channel from {@link acquireChannel}: the last user leaves it, and closes the socket. */
export function releaseChannel(url: string, channel: Channel): void {
  const shared = sockets.get(url);
  const entry = channelEntries.get(channel);
  if (!shared || !entry) return;
  if (--entry.users === 0) {
    channel.leave();
    shared.channels.delete(channel.topic);
  }
  if (--shared.users === 0) {
    shared.socket.disconnect();
    sockets.delete(url);
  }
}
