import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** A custom element class; `never[]` accepts any constructor signature. */
export type ElementClass = abstract new (...args: never[]) => HTMLElement;

type Callbacks = { connectedCallback?(): void; disconnectedCallback?(): void };

const controllers = new WeakMap<HTMLElement, Set<ReactiveController>>();
const connecting = new WeakSet<HTMLElement>();
const initialized = new WeakSet<HTMLElement>();
const initializers = new WeakMap<object, Array<(element: HTMLElement) => void>>();

const controllersOf = (element: HTMLElement): Set<ReactiveController> => {
  let set = controllers.get(element);
  if (!set) controllers.set(element, (set = new Set()));
  return set;
};

/** What a plain element gets to host controllers: Lit's `ReactiveControllerHost`, with nothing to render. */
const hostMembers: ReactiveControllerHost & ThisType<HTMLElement> = {
  addController(controller) {
    controllersOf(this).add(controller);
    // While connecting, the loop in connectedCallback reaches it.
    if (this.isConnected && !connecting.has(this)) controller.hostConnected?.();
  },
  removeController(controller) {
    controllersOf(this).delete(controller);
  },
  /** A plain element renders itself (e.g. in property setters): there is no update to schedule. */
  requestUpdate() {},
  get updateComplete() {
    return Promise.resolve(true);
  },
};

export const isReactiveElementClass = (klass: object): klass is ElementClass & { addInitializer(init: (element: HTMLElement) => void): void } =>
  typeof (klass as { addInitializer?: unknown }).addInitializer === 'function';

/**
 * Lets a custom element class that is not a Lit `ReactiveElement` host reactive
 * controllers, as the original decorator worked on any `HTMLElement` subclass:
 * `initializer` runs once per element, when it is first connected (a class decorator
 * cannot reach the constructor), and controllers hear `connectedCallback` and
 * `disconnectedCallback` after the class's own.
 */
export function hostControllers(klass: ElementClass, initializer: (element: HTMLElement) => void): void {
  const prototype = klass.prototype as HTMLElement & Callbacks;
  let list = initializers.get(prototype);
  if (list) {
    list.push(initializer);
    return;
  }
  initializers.set(prototype, (list = [initializer]));
  for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(hostMembers))) {
    if (!(name in prototype)) Object.defineProperty(prototype, name, { ...descriptor, enumerable: false });
  }
  const { connectedCallback, disconnectedCallback } = prototype;
  prototype.connectedCallback = function (this: HTMLElement) {
    connectedCallback?.call(this);
    connecting.add(this);
    try {
      if (!initialized.has(this)) {
        initialized.add(this);
        for (const init of list) init(this);
      }
      for (const controller of controllersOf(this)) controller.hostConnected?.();
    } finally {
      connecting.delete(this);
    }
  };
  prototype.disconnectedCallback = function (this: HTMLElement) {
    disconnectedCallback?.call(this);
    for (const controller of controllersOf(this)) controller.hostDisconnected?.();
  };
}
