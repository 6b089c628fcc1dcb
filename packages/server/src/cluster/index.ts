// @livestate/server/cluster: the Redis building blocks a cluster node is made of, for tools
// that inspect or operate a cluster's Redis (and for the tests that drive them directly).
export type { ClusterOptions } from './cluster-node.js';
export { connectRedis, type RedisClient } from './redis-client.js';
export { FencedWriteError, type Fence } from '../storage/redis-storage.js';
export { TopicKeys } from './topic-keys.js';
export { TopicLease } from './topic-lease.js';
export type { LeaseHolder } from './topic-lease.js';
