import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import type { TopicKeys } from './topic-keys.js';

/** Takes a free lease and hands out the next fencing token, in one step. */
const ACQUIRE = new LuaScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '/' .. token, 'PX', ARGV[2])
return token
`);

/** Extends or drops a lease, only while it is still ours (same node, same token). */
const RENEW = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`);
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`);

export interface LeaseHolder {
  nodeId: string;
  token: number;
}

/**
 * A topic's ownership: one node at a time holds it for `ttlMs` and must renew it. Each
 * acquisition gets a larger fencing token, which every write of the owner carries, so a
 * former owner that lost its lease (paused, cut off) is refused even if it comes back.
 */
export class TopicLease {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: TopicKeys,
    private readonly nodeId: string,
    private readonly ttlMs: number,
  ) {}

  /** The fencing token when the lease was free and is now ours; `undefined` when someone holds it. */
  async acquire(): Promise<number | undefined> {
    const token = await ACQUIRE.run(this.redis, [this.keys.lease, this.keys.fence], [this.nodeId, this.ttlMs]);
    return typeof token === 'number' ? token : undefined;
  }

  /** `false` when the lease is no longer ours: it expired, and perhaps someone else took it. */
  async renew(token: number): Promise<boolean> {
    return (await RENEW.run(this.redis, [this.keys.lease], [`${this.nodeId}/${token}`, this.ttlMs])) === 1;
  }

  async release(token: number): Promise<boolean> {
    return (await RELEASE.run(this.redis, [this.keys.lease], [`${this.nodeId}/${token}`])) === 1;
  }

  async holder(): Promise<LeaseHolder | undefined> {
    const value = await this.redis.get(this.keys.lease);
    if (value === null) return undefined;
    const slash = value.lastIndexOf('/');
    return { nodeId: value.slice(0, slash), token: Number(value.slice(slash + 1)) };
  }
}
