import type { LiveStateProperty } from './connect-element.js';

/** What the property decorators record about a class, read by the controller when an element connects. */
export interface LiveStateMetadata {
  properties: LiveStateProperty[];
  /** Config key (`url`, `topic`, `params.api_key`…) → the element property that supplies it. */
  config: Record<string, PropertyKey>;
}

const metadata = new WeakMap<object, LiveStateMetadata>();

/** The metadata a class records itself (not inherited). */
export function ownMetadata(klass: object): LiveStateMetadata {
  let entry = metadata.get(klass);
  if (!entry) metadata.set(klass, (entry = { properties: [], config: {} }));
  return entry;
}

/** A class's metadata merged with its superclasses', subclasses last. */
export function metadataOf(klass: object): LiveStateMetadata {
  const chain: LiveStateMetadata[] = [];
  for (let current: object | null = klass; current && current !== Function.prototype; current = Object.getPrototypeOf(current)) {
    const entry = metadata.get(current);
    if (entry) chain.unshift(entry);
  }
  return {
    properties: chain.flatMap((entry) => entry.properties),
    config: Object.assign({}, ...chain.map((entry) => entry.config)),
  };
}
