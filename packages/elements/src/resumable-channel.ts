import type { Channel, Socket } from 'phoenix';

/** Where a client is in a state's history (protocol.md §4). */
interface Position {
  epoch: string;
  version: number;
}

/**
 * A channel whose every rejoin carries `lvs_resume`: the epoch and version of the last
 * state it received, so the server sends only the patches it missed. phoenix.js reads
 * the join params from a function on each (re)join; that is where the position goes.
 * Servers that send no epoch (Elixir's live_state) never see `lvs_resume`.
 */
export function resumableChannel(socket: Socket, topic: string, params: object): Channel {
  let position: Position | undefined;
  const channel = socket.channel(topic, () => (position ? { ...params, lvs_resume: position } : params));
  channel.on('state:change', (payload: { epoch?: unknown; version?: unknown }) => {
    const { epoch, version } = payload ?? {};
    position = typeof epoch === 'string' && Number.isSafeInteger(version) ? { epoch, version: version as number } : undefined;
  });
  channel.on('state:patch', ({ version }: { version?: unknown }) => {
    // A patch out of order is refused by the LiveState, which asks for the whole state.
    if (position && (version === position.version + 1 || version === 0)) position = { ...position, version };
  });
  return channel;
}
