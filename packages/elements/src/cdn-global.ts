/**
 * The types of `@livestate/elements/cdn/iife`: the classic-script bundle exports nothing and
 * defines the global `LiveStateElements` instead, with everything `./cdn` exports.
 */
import type * as LiveStateElementsBundle from './cdn.js';

declare global {
  var LiveStateElements: typeof LiveStateElementsBundle;
}
