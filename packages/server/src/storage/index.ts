export { MemoryStorage, type MemoryStorageOptions } from './memory-storage.js';
export { FencedWriteError, RedisStorage, type Fence, type RedisStorageOptions } from './redis-storage.js';
export { SqliteStorage, type SqliteStorageOptions } from './sqlite-storage.js';
export { DEFAULT_PATCH_WINDOW, StorageConflictError } from './storage.js';
export type { Position, Storage, StoredPatch, StoredState, Update } from './storage.js';
