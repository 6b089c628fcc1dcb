import { LuaScript } from './lua-script.js';
import type { RedisClient } from './redis-client.js';
import type { TopicKeys } from './topic-keys.js';

/** A topic's state as Redis holds it. `seq` counts every update and never wraps; the wire version is derived from it. */
export interface StoredTopic {
  stateJson: string;
  seq: number;
  epoch: string;
}

export interface Commit extends StoredTopic {
  /** The lease value (`<node>/<token>`) the writer believes it holds. */
  owner: string;
  /** The `seq` the writer's update follows; `-1` when it creates the state. */
  previousSeq: number;
  /** The encoded `state:patch` payload, kept for resume; none when the state is created. */
  patchJson?: string;
  /** Published on the topic's update channel in the same step, so a commit and its fan-out never part. */
  update?: string;
}

/** A write refused because the writer no longer holds the topic or its state moved on: nothing was changed. */
export class FencedWriteError extends Error {
  constructor(topic: string, reason: string) {
    super(`write to topic "${topic}" refused: ${reason}`);
    this.name = 'FencedWriteError';
  }
}

/**
 * KEYS: lease, state, log, updates channel.
 * ARGV: owner, previous seq, seq, state JSON, epoch, log entry ('' for none), log size, update ('' for none).
 */
const COMMIT = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return redis.error_reply('FENCED the lease is no longer held by this writer') end
local seq = redis.call('HGET', KEYS[2], 'seq') or '-1'
if seq ~= ARGV[2] then return redis.error_reply('FENCED the stored state is at ' .. seq .. ', not ' .. ARGV[2]) end
redis.call('HSET', KEYS[2], 'state', ARGV[4], 'seq', ARGV[3], 'epoch', ARGV[5])
if ARGV[6] == '' then
  redis.call('DEL', KEYS[3])
else
  redis.call('RPUSH', KEYS[3], ARGV[6])
  redis.call('LTRIM', KEYS[3], -tonumber(ARGV[7]), -1)
end
if ARGV[8] ~= '' then redis.call('PUBLISH', KEYS[4], ARGV[8]) end
return 1
`);

/** A topic's state, sequence, epoch and a bounded log of its latest patches, in Redis. */
export class RedisTopicStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: TopicKeys,
    private readonly logSize: number,
  ) {}

  async load(): Promise<StoredTopic | undefined> {
    const [stateJson, seq, epoch] = await this.redis.hmGet(this.keys.state, ['state', 'seq', 'epoch']);
    if (stateJson == null || seq == null || epoch == null) return undefined;
    return { stateJson, seq: Number(seq), epoch };
  }

  /** Stores an update if `owner` still holds the lease and the stored state is at `previousSeq`; throws {@link FencedWriteError} otherwise. */
  async commit(commit: Commit): Promise<void> {
    const { owner, previousSeq, seq, stateJson, epoch, patchJson, update } = commit;
    try {
      await COMMIT.run(
        this.redis,
        [this.keys.lease, this.keys.state, this.keys.log, this.keys.updates],
        [owner, previousSeq, seq, stateJson, epoch, patchJson === undefined ? '' : `${seq} ${patchJson}`, this.logSize, update ?? ''],
      );
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('FENCED ')) {
        throw new FencedWriteError(this.keys.topic, error.message.slice('FENCED '.length));
      }
      throw error;
    }
  }

  /** The encoded patches after `seq`, oldest first; `undefined` when the log no longer reaches back that far. */
  async patchesAfter(seq: number, currentSeq: number): Promise<string[] | undefined> {
    const missing = currentSeq - seq;
    if (missing < 0) return undefined;
    if (missing === 0) return [];
    const entries = await this.redis.lRange(this.keys.log, -missing, -1);
    if (entries.length !== missing) return undefined;
    const patches: string[] = [];
    for (const [index, entry] of entries.entries()) {
      const space = entry.indexOf(' ');
      if (Number(entry.slice(0, space)) !== seq + 1 + index) return undefined;
      patches.push(entry.slice(space + 1));
    }
    return patches;
  }
}
