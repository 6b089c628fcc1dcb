import { Socket, type Channel } from 'phoenix';

interface SharedChannel {
  channel: Channel;
  users: number;
}

interface SharedSocket {
  socket: Socket;
  users: number;
  channels: Map<string, SharedChannel>;
}

const sockets = new Map<string, SharedSocket>();

/**
 * One phoenix Socket per URL and one Channel per topic on it, shared by every
 * LiveState that asks for them and closed when the last one lets go. Sharing the
 * channel is not only thrift: a second join of a topic on the same socket would
 * make the server close the first. `joined` says whether another LiveState
 * already sent the join.
 */
export function acquireChannel(
  url: string,
  topic: string,
  params: object,
  socketOptions: object | undefined,
): { channel: Channel; joined: boolean; socket: Socket } {
  let shared = sockets.get(url);
  if (!shared) {
    shared = { socket: new Socket(url, socketOptions ?? {}), users: 0, channels: new Map() };
    sockets.set(url, shared);
    shared.socket.connect();
  }
  shared.users++;
  const existing = shared.channels.get(topic);
  if (existing) {
    existing.users++;
    return { channel: existing.channel, joined: true, socket: shared.socket };
  }
  const channel = shared.socket.channel(topic, params);
  shared.channels.set(topic, { channel, users: 1 });
  return { channel, joined: false, socket: shared.socket };
}

/** Lets go of a channel from {@link acquireChannel}: the last user leaves it, and closes the socket. */
export function releaseChannel(url: string, channel: Channel): void {
  const shared = sockets.get(url);
  const entry = shared?.channels.get(channel.topic);
  if (!shared || entry?.channel !== channel) return;
  if (--entry.users === 0) {
    channel.leave();
    shared.channels.delete(channel.topic);
  }
  if (--shared.users === 0) {
    shared.socket.disconnect();
    sockets.delete(url);
  }
}
