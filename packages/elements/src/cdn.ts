/**
 * The script-tag bundle: everything in @livestate/elements plus Lit, so that a page
 * with one `<script>` and no build step can define and connect elements:
 * `const { LitElement, html, LiveStateMixin } = LiveStateElements;`
 */
export * from './index.js';
export { LitElement, ReactiveElement, html, css, nothing } from 'lit';
export { Socket } from 'phoenix';
