import type { ReactiveElement } from 'lit';
import { LiveStateController, type LiveStateOptions } from './live-state-controller.js';

type Constructor<T> = abstract new (...args: any[]) => T;

/** What the mixin adds to an element. */
export interface LiveStateElement {
  readonly liveStateController: LiveStateController;
}

/**
 * For elements written without decorators: `class TodoList extends LiveStateMixin(LitElement, options)`.
 * Properties named in `options.properties` become reactive, as `@liveStateProperty` makes them.
 */
export function LiveStateMixin<Base extends Constructor<ReactiveElement>>(
  base: Base,
  options: LiveStateOptions,
): Base & Constructor<LiveStateElement> {
  abstract class LiveStateMixinElement extends base implements LiveStateElement {
    readonly liveStateController = new LiveStateController(this as any, options);
  }
  const elementClass = LiveStateMixinElement as unknown as typeof ReactiveElement;
  for (const property of options.properties ?? []) {
    elementClass.createProperty(typeof property === 'string' ? property : property.name, { state: true });
  }
  return LiveStateMixinElement;
}
