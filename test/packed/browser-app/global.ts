// The script-tag bundle's global, typed by `@livestate/elements/cdn/iife`.
import '@livestate/elements/cdn/iife';

export const { LitElement, LiveStateMixin } = globalThis.LiveStateElements;
