// A page script that uses the script-tag bundle's global, typed by `@livestate/elements/cdn/iife`.
/// <reference types="@livestate/elements/cdn/iife" />

export const { LitElement, LiveStateMixin } = LiveStateElements;
