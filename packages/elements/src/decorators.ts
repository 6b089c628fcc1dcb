import type { ReactiveControllerHost } from 'lit';
import { state } from 'lit/decorators.js';
import { hostControllers, isReactiveElementClass, type ElementClass } from './controller-host.js';
import { ownMetadata } from './element-metadata.js';
import { LiveStateController, type LiveStateOptions } from './live-state-controller.js';

/*
 * Each decorator works as an experimental (TypeScript `experimentalDecorators`) and
 * as a standard decorator: as in Lit's own, a second argument that is an object
 * is a standard decorator context.
 */

type MemberContext = ClassAccessorDecoratorContext | ClassFieldDecoratorContext | ClassSetterDecoratorContext | ClassGetterDecoratorContext;

/** A decorator for a field, accessor, getter or setter, in either decorator mode. */
export interface LiveStateMemberDecorator {
  // Experimental: the prototype, the name, and for an accessor its descriptor (TypeScript
  // wants `void` here even where the decorator returns a replacement descriptor).
  (prototype: object, name: PropertyKey, descriptor?: PropertyDescriptor): void;
  // Standard: `accessor` fields (made reactive in a Lit element).
  <C, V>(target: ClassAccessorDecoratorTarget<C, V>, context: ClassAccessorDecoratorContext<C, V>): void | ClassAccessorDecoratorResult<C, V>;
  // Standard: plain fields, getters and setters.
  (target: unknown, context: MemberContext): void;
}

type ReactiveClass = { createProperty?: unknown; elementProperties?: Map<PropertyKey, unknown> };
const isStandard = (context: unknown): context is MemberContext => typeof context === 'object' && context !== null;

/** Records metadata on the class: at once for experimental decorators, at first construction for standard ones. */
function onClass(target: unknown, context: unknown, record: (klass: object, name: PropertyKey) => void): void {
  if (isStandard(context)) {
    let done = false;
    context.addInitializer(function (this: unknown) {
      if (!done) record((this as object).constructor, context.name);
      done = true;
    });
  } else {
    record((target as { constructor: object }).constructor, context as PropertyKey);
  }
}

/** Whether a property decorator such as `@property()` already declared this member (in a Lit element). */
function declaredByLit(target: unknown, context: unknown): boolean {
  if (isStandard(context)) {
    const metadata = (globalThis as { litPropertyMetadata?: WeakMap<object, Map<PropertyKey, unknown>> }).litPropertyMetadata;
    return metadata?.get(context.metadata)?.has(context.name) ?? false;
  }
  return (target as { constructor: ReactiveClass }).constructor.elementProperties?.has(context as PropertyKey) ?? false;
}

/**
 * Connects every instance of a custom element class to LiveState through a
 * {@link LiveStateController}, reachable as `el.liveStateController`. On a Lit element
 * the controller is made with the element; on any other `HTMLElement` subclass, when the
 * element is first connected.
 */
export function liveState(options: LiveStateOptions = {}) {
  return (target: ElementClass, _context?: ClassDecoratorContext): void => {
    const attach = (element: HTMLElement) => {
      const host = element as HTMLElement & ReactiveControllerHost & { liveStateController: LiveStateController };
      host.liveStateController = new LiveStateController(host, options);
    };
    if (isReactiveElementClass(target)) target.addInitializer(attach);
    else hostControllers(target, attach);
  };
}

/**
 * Sets the member from the state on every change: the same-named state key, or `path`
 * (a JSON pointer or a dotted path). In a Lit element the member is reactive by itself,
 * as `@state()` makes it; combined with `@property()`, in either order, it stays a property
 * with its attribute.
 */
export function liveStateProperty(path?: string): LiveStateMemberDecorator {
  return ((target: unknown, context: unknown, descriptor?: PropertyDescriptor) => {
    onClass(target, context, (klass, name) => {
      const property = String(name);
      ownMetadata(klass).properties.push(path ? { name: property, path } : property);
    });
    const litClass = isStandard(context) || typeof (target as { constructor: ReactiveClass }).constructor.createProperty === 'function';
    if (!litClass || declaredByLit(target, context)) return undefined;
    return (state() as (target: unknown, context: unknown, descriptor?: PropertyDescriptor) => unknown)(target, context, descriptor);
  }) as LiveStateMemberDecorator;
}

/**
 * Takes a LiveState config value (`url`, `topic`, `params.<name>`) from this member
 * when the element connects; combine it with `@property()` to set it from an attribute.
 */
export function liveStateConfig(key: string): LiveStateMemberDecorator {
  return ((target: unknown, context: unknown) => {
    onClass(target, context, (klass, name) => {
      ownMetadata(klass).config[key] = name;
    });
  }) as LiveStateMemberDecorator;
}
