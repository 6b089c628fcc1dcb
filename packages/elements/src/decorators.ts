import type { ReactiveElement } from 'lit';
import { state } from 'lit/decorators.js';
import { ownMetadata } from './element-metadata.js';
import { LiveStateController, type LiveStateOptions } from './live-state-controller.js';

/*
 * Each decorator works as an experimental (TypeScript `experimentalDecorators`) and
 * as a standard decorator: as in Lit's own, a second argument that is an object
 * is a standard decorator context.
 */

type ReactiveElementClass = typeof ReactiveElement;
type StandardContext = { kind: string; name: PropertyKey; addInitializer(initializer: (this: any) => void): void };
const isStandard = (context: unknown): context is StandardContext => typeof context === 'object' && context !== null;

/** Records metadata on the class: at once for experimental decorators, at first construction for standard ones. */
function onClass(target: object, context: unknown, record: (klass: object, name: PropertyKey) => void): void {
  if (isStandard(context)) {
    let done = false;
    context.addInitializer(function (this: object) {
      if (!done) record(this.constructor, context.name);
      done = true;
    });
  } else {
    record((target as { constructor: object }).constructor, context as PropertyKey);
  }
}

/**
 * Connects every instance of a Lit element class to LiveState through a
 * {@link LiveStateController}, reachable as `el.liveStateController`.
 */
export function liveState(options: LiveStateOptions = {}) {
  return (target: ReactiveElementClass, _context?: unknown): void => {
    target.addInitializer((element) => {
      (element as any).liveStateController = new LiveStateController(element as any, options);
    });
  };
}

/**
 * Sets the field from the state on every change: the same-named state key, or `path`
 * (a JSON pointer or a dotted path). The field is reactive by itself, as `@state()` makes it.
 */
export function liveStateProperty(path?: string) {
  return (target: any, context: any, _descriptor?: PropertyDescriptor): any => {
    onClass(target, context, (klass, name) => {
      const property = String(name);
      ownMetadata(klass).properties.push(path ? { name: property, path } : property);
    });
    return (state() as any)(target, context, _descriptor);
  };
}

/**
 * Takes a LiveState config value (`url`, `topic`, `params.<name>`) from this field
 * when the element connects; combine it with `@property()` to set it from an attribute.
 */
export function liveStateConfig(key: string) {
  return (target: any, context: any, _descriptor?: PropertyDescriptor): void => {
    onClass(target, context, (klass, name) => {
      ownMetadata(klass).config[key] = name;
    });
  };
}
