import type { ReactiveElement } from 'lit';
import { LiveStateController, type LiveStateOptions } from './live-state-controller.js';

// A mixin's base must be typed with `any[]` constructor arguments: TypeScript requires it.
type Constructor<T> = abstract new (...args: any[]) => T;

/** What the mixin adds to an element. */
export interface LiveStateElement<S extends object = Record<string, unknown>> {
  readonly liveStateController: LiveStateController<S>;
}

/**
 * For elements written without decorators: `class TodoList extends LiveStateMixin(LitElement, options)`.
 * Properties named in `options.properties` become reactive, as `@liveStateProperty` makes them.
 */
export function LiveStateMixin<Base extends Constructor<ReactiveElement>, S extends object = Record<string, unknown>>(
  base: Base,
  options: LiveStateOptions,
): Base & Constructor<LiveStateElement<S>> {
  abstract class LiveStateMixinElement extends base implements LiveStateElement<S> {
    readonly liveStateController = new LiveStateController<S>(this, options);
  }
  const elementClass = LiveStateMixinElement as unknown as typeof ReactiveElement;
  for (const property of options.properties ?? []) {
    elementClass.createProperty(typeof property === 'string' ? property : property.name, { state: true });
  }
  return LiveStateMixinElement;
}
