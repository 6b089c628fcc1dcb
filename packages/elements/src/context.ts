import { createContext, type Context } from '@lit/context';
import type { LiveState } from './live-state.js';

const contexts = new Map<string, Context<string, LiveState<object>>>();

/**
 * The context under which a provider element shares its LiveState with its
 * descendants. Contexts are matched by key, so a name is enough on both sides.
 */
export function liveStateContext(name: string): Context<string, LiveState<object>> {
  let context = contexts.get(name);
  if (!context) contexts.set(name, (context = createContext<LiveState<object>, string>(`livestate:${name}`)));
  return context;
}
