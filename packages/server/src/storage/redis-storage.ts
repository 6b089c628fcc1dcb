import { connectRedis, type RedisClient } from '../cluster/redis-client.js';
import { LuaScript } from '../cluster/lua-script.js';
import { TopicKeys } from '../cluster/topic-keys.js';
import type { JsonObject } from '../state/json.js';
import { consoleLogger, type Logger } from '../logger.js';
import {
  checkPatchWindow,
  DEFAULT_PATCH_WINDOW,
  StorageConflictError,
  type Position,
  type Storage,
  type StoredPatch,
  type StoredState,
  type Update,
} from './storage.js';

export interface RedisStorageOptions {
  /** The Redis to connect to, e.g. `redis://127.0.0.1:6379`; or pass a connected `client`. */
  url?: string;
  /** A connected client to use (and leave open on close) instead of `url`. */
  client?: RedisClient;
  /** Starts every key, to share one Redis between deployments. Default `livestate:`. */
  prefix?: string;
  /** How many patches each topic keeps for resuming clients. Default 128. */
  patchWindow?: number;
  /** Where losing and regaining Redis is reported. Default `console`. */
  logger?: Logger;
}

/** A cluster owner's write: checked against the topic's lease, and published in the same step. */
export interface Fence {
  /** The lease value (`<node>/<token>`) the writer holds; the write is refused when Redis holds another. */
  owner: string;
  /** A message for the topic's update channel, published only if the write is stored. */
  publish?: string;
}

/** A write refused because its writer no longer holds the topic's lease: nothing was changed. */
export class FencedWriteError extends Error {
  constructor(topic: string) {
    super(`write to "${topic}" refused: this node no longer holds the topic's lease`);
    this.name = 'FencedWriteError';
  }
}

/**
 * KEYS: state, log, lease, updates. ARGV: follows epoch ('' for a new history), follows version,
 * epoch, version, state, log entry, window, owner ('' for no lease check), message ('' for none).
 * Returns 1, or the stored {epoch, version} when `follows` is not it.
 */
const APPEND = new LuaScript(`
if ARGV[8] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[8] then return redis.error_reply('FENCED lease held by another writer') end
local stored = redis.call('HMGET', KEYS[1], 'epoch', 'version')
if ARGV[1] == '' then
  if stored[1] then return {stored[1], stored[2]} end
elseif stored[1] ~= ARGV[1] or stored[2] ~= ARGV[2] then
  return {stored[1] or '', stored[2] or ''}
end
redis.call('HSET', KEYS[1], 'epoch', ARGV[3], 'version', ARGV[4], 'state', ARGV[5])
if ARGV[1] == '' then
  redis.call('DEL', KEYS[2])
else
  redis.call('RPUSH', KEYS[2], ARGV[6])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[7]), -1)
end
if ARGV[9] ~= '' then redis.call('PUBLISH', KEYS[4], ARGV[9]) end
return 1
`);

/**
 * KEYS: state, log. ARGV: epoch, version. The log entries (`<from> <version> <patch>`) from the
 * newest one that follows `version` (versions wrap: only the newest run leads to the stored state).
 */
const PATCHES_AFTER = new LuaScript(`
local stored = redis.call('HMGET', KEYS[1], 'epoch', 'version')
if stored[1] ~= ARGV[1] then return false end
if stored[2] == ARGV[2] then return {} end
local log = redis.call('LRANGE', KEYS[2], 0, -1)
for start = #log, 1, -1 do
  if string.match(log[start], '^(%d+) ') == ARGV[2] then
    local found = {}
    for i = start, #log do found[#found + 1] = log[i] end
    return found
  end
end
return false
`);

/**
 * Topic states in Redis: a hash per topic (state, version, epoch) and a list of its latest
 * patches, each append checked and written by one Lua script, so it is atomic. The storage
 * of a cluster's nodes, and usable alone by a single server.
 */
export class RedisStorage implements Storage {
  private readonly client: Promise<RedisClient>;
  private readonly ownsClient: boolean;
  private readonly prefix: string;
  private readonly patchWindow: number;

  constructor({ url, client, prefix = 'livestate:', patchWindow = DEFAULT_PATCH_WINDOW, logger = consoleLogger }: RedisStorageOptions) {
    if (!client && !url) throw new Error('RedisStorage needs a url or a client');
    this.ownsClient = !client;
    this.client = client ? Promise.resolve(client) : connectRedis(url!, 'storage', logger);
    this.client.catch(() => undefined);
    this.prefix = prefix;
    this.patchWindow = checkPatchWindow(patchWindow);
  }

  async load(topic: string): Promise<StoredState | undefined> {
    const [state, version, epoch] = await (await this.client).hmGet(this.keys(topic).state, ['state', 'version', 'epoch']);
    if (state == null || version == null || epoch == null) return undefined;
    return { state: JSON.parse(state) as JsonObject, version: Number(version), epoch };
  }

  append(topic: string, update: Update): Promise<void>;
  /** With a `fence`: only while the writer holds the topic's lease; throws {@link FencedWriteError} otherwise. */
  append(topic: string, update: Update, fence: Fence): Promise<void>;
  async append(topic: string, update: Update, fence?: Fence): Promise<void> {
    const keys = this.keys(topic);
    const { follows } = update;
    let result;
    try {
      result = await APPEND.run(
        await this.client,
        [keys.state, keys.log, keys.lease, keys.updates],
        [
          follows?.epoch ?? '',
          follows?.version ?? '',
          update.epoch,
          update.version,
          JSON.stringify(update.state),
          follows ? `${follows.version} ${update.version} ${update.patch}` : '',
          this.patchWindow,
          fence?.owner ?? '',
          fence?.publish ?? '',
        ],
      );
    } catch (error) {
      if (error instanceof Error && /^(ERR )?FENCED /.test(error.message)) throw new FencedWriteError(topic);
      throw error;
    }
    if (Array.isArray(result)) {
      const [epoch, version] = result as string[];
      throw new StorageConflictError(topic, follows, epoch ? { epoch, version: Number(version) } : undefined);
    }
  }

  async patchesAfter(topic: string, from: Position): Promise<StoredPatch[] | undefined> {
    const keys = this.keys(topic);
    const entries = await PATCHES_AFTER.run(await this.client, [keys.state, keys.log], [from.epoch, from.version]);
    if (!Array.isArray(entries)) return undefined;
    return (entries as string[]).map((entry) => {
      const [, version, ...patch] = entry.split(' ');
      return { version: Number(version), patch: patch.join(' ') };
    });
  }

  /** Lets Redis forget the topic after `ms` (its state and patch log), unless {@link persist} is called first. */
  async expire(topic: string, ms: number): Promise<void> {
    const keys = this.keys(topic);
    const client = await this.client;
    await Promise.all([client.pExpire(keys.state, ms), client.pExpire(keys.log, ms)]);
  }

  /** Undoes {@link expire}. */
  async persist(topic: string): Promise<void> {
    const keys = this.keys(topic);
    const client = await this.client;
    await Promise.all([client.persist(keys.state), client.persist(keys.log)]);
  }

  async drop(topic: string): Promise<void> {
    const keys = this.keys(topic);
    await (await this.client).del([keys.state, keys.log]);
  }

  async close(): Promise<void> {
    if (this.ownsClient) await (await this.client.catch(() => undefined))?.close();
  }

  private keys(topic: string): TopicKeys {
    return new TopicKeys(this.prefix, topic);
  }
}
