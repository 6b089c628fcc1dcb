export { LiveStateServer } from './server.js';
export type { ConnectInfo, ConnectResult, ListenOptions, LiveStateServerOptions } from './server.js';
export type { HandlerLimits, RouteOptions, Scope } from './channels/route.js';
export { defineHandler, reply, Reply, UnknownEventError, UserError } from './handler.js';
export type {
  Authorization,
  EventContext,
  EventFunction,
  EventPayloads,
  HandlerDefinition,
  LiveStateHandler,
  ReplyEvent,
  SocketInfo,
  State,
  StateShape,
} from './handler.js';
export { diff, measuredDiff } from './state/diff.js';
export { applyPatch } from './state/apply-patch.js';
export type { AppliedPatch } from './state/apply-patch.js';
export type { MeasuredPatch, PatchOperation } from './state/diff.js';
export type { JsonObject, JsonValue } from './state/json.js';
export type { Logger } from './logger.js';
export type { Message, Payload } from './transport/serializer.js';
export { wasmHandler, WasmHandler } from './wasm/wasm-handler.js';
export type { WasmHandlerOptions } from './wasm/wasm-handler.js';
export { GuestPool, GuestCallError } from './wasm/guest-pool.js';
export type { GuestPoolOptions } from './wasm/guest-pool.js';
export { InvalidModuleError, rewriteModule, UninterruptibleModuleError } from './wasm/module-rewriter.js';
export type { RewriteOptions } from './wasm/module-rewriter.js';
export { MemoryStorage, RedisStorage, SqliteStorage, StorageConflictError, DEFAULT_PATCH_WINDOW } from './storage/index.js';
export type {
  MemoryStorageOptions,
  RedisStorageOptions,
  Position,
  SqliteStorageOptions,
  Storage,
  StoredPatch,
  StoredState,
  Update,
} from './storage/index.js';
export type { ClusterOptions } from './cluster/cluster-node.js';
