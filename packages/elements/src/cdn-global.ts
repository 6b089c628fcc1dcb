/**
 * The types of `@livestate/elements/cdn/iife`, the classic-script bundle: loaded with a
 * `<script>` tag it defines the global `LiveStateElements`, with everything `./cdn` exports.
 * Page scripts written in TypeScript get the global with
 * `/// <reference types="@livestate/elements/cdn/iife" />`. (Imported by a bundler, the file
 * defines nothing: its `var` stays inside the module.)
 */
import type * as LiveStateElementsBundle from './cdn.js';

declare global {
  var LiveStateElements: typeof LiveStateElementsBundle;
}
