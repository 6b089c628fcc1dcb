export { LiveState, LiveStateEventError } from './live-state.js';
export type { LiveStateConfig } from './live-state.js';
export type { LiveStateChange, LiveStateError, LiveStateEventMap, LiveStatePatch, ServerEventListener } from './events.js';
export {
  connectElement,
  connectProperty,
  connectAttribute,
  connectAtttribute,
  sendEvent,
  receiveEvent,
} from './connect-element.js';
export type { ConnectOptions, Disconnect, LiveStateProperty } from './connect-element.js';
export { LiveStateController } from './live-state-controller.js';
export type { LiveStateOptions } from './live-state-controller.js';
export { liveState, liveStateConfig, liveStateProperty } from './decorators.js';
export { LiveStateMixin } from './live-state-mixin.js';
export type { LiveStateElement } from './live-state-mixin.js';
export { liveStateContext } from './context.js';
export { applyPatch, PatchError } from './json-patch.js';
export type { PatchOperation } from './json-patch.js';
export { readPath } from './property-path.js';
export { scriptSocketUrl, socketUrlFor } from './script-url.js';

/** The original package's names, for code written against `phx-live-state`. */
export type { LiveStateOptions as LiveStateDecoratorOptions } from './live-state-controller.js';
export { LiveState as default } from './live-state.js';
