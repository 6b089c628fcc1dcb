import { createClient } from 'redis';
import type { Logger } from '../logger.js';


/** A Redis URL without its password, for logs. */
export const redact = (url: string): string => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

/** Reconnects with a capped backoff: Redis that went away is retried until it is back. */
const reconnectDelay = (retries: number): number => Math.min(50 * 2 ** retries, 2000);

const createRedisClient = (url: string) =>
  createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: reconnectDelay } });

export type RedisClient = ReturnType<typeof createRedisClient>;


export interface ConnectionEvents {
  /** The connection was lost (once per outage). */
  onDown?: () => void;
  /** The connection is back after an outage. */
  onBack?: () => void;
}

/**
 * A connected client. Commands fail at once while Redis is unreachable instead of queueing
 * (`disableOfflineQueue`): a client's event then gets a precise error rather than hanging.
 * Losing and regaining the connection is logged once each way, and reported to `events`.
 * Throws when Redis cannot be reached at all.
 */
export async function connectRedis(url: string, name: string, logger: Logger, { onDown, onBack }: ConnectionEvents = {}): Promise<RedisClient> {
  const client = createRedisClient(url);
  // A Redis that cannot be reached at start is a configuration error: say so rather than retry forever.
  const refused = new Promise<never>((_, reject) => client.once('error', reject));
  refused.catch(() => undefined);
  try {
    await Promise.race([client.connect(), refused]);
  } catch (error) {
    client.destroy();
    throw new Error(`cannot connect to Redis ${redact(url)}: ${(error as Error).message || (error as Error).constructor.name}`);
  }
  let down = false;
  client.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.error(`cluster: lost Redis ${redact(url)} (${name}): ${error.message || error.constructor.name}`);
    onDown?.();
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info(`cluster: Redis ${redact(url)} is back (${name})`);
    onBack?.();
  });
  return client;
}
