import { LiveState } from './live-state.js';

type AnyLiveState = LiveState<object>;
type Watcher = (liveState: AnyLiveState | undefined) => void;

interface Published {
  liveState: AnyLiveState;
  scope: Record<string, unknown>;
  /** Providers that publish it; the last to leave unpublishes it. */
  providers: number;
  /** Whether a provider made it (and set `scope[name]`), rather than finding it there. */
  made: boolean;
}

const published = new Map<string, Published>();
const watchers = new Map<string, Set<Watcher>>();

const notify = (name: string): void => {
  for (const watcher of watchers.get(name) ?? []) watcher(published.get(name)?.liveState);
};

/**
 * Publishes a LiveState on `scope` (e.g. `window`) as `scope[name]`, as the original
 * `provide: {scope, name}` does, for consumers anywhere in the page. A LiveState already at
 * `scope[name]` is used rather than one from `make()`. Returns it and `release`, which a
 * provider calls when it goes. When the last provider of a name goes, the name is
 * unpublished and, if a provider made the LiveState, deleted from the scope and the
 * LiveState disconnected.
 */
export function publish(scope: object, name: string, make: () => AnyLiveState): { liveState: AnyLiveState; release: () => void } {
  const target = scope as Record<string, unknown>;
  let entry = published.get(name);
  if (!entry || entry.scope !== target || target[name] !== entry.liveState) {
    const existing = target[name];
    entry =
      existing instanceof LiveState
        ? { liveState: existing, scope: target, providers: 0, made: false }
        : { liveState: make(), scope: target, providers: 0, made: true };
    if (entry.made) target[name] = entry.liveState;
    published.set(name, entry);
    notify(name);
  }
  entry.providers++;
  const current = entry;
  let released = false;
  return {
    liveState: current.liveState,
    release: () => {
      if (released) return;
      released = true;
      if (--current.providers > 0) return;
      if (published.get(name) === current) {
        published.delete(name);
        notify(name);
      }
      if (!current.made) return;
      if (target[name] === current.liveState) delete target[name];
      current.liveState.disconnect();
    },
  };
}

/**
 * Calls `watcher` with the LiveState published under `name` now (if any) and on every
 * change (`undefined` when it is unpublished), until the returned function is called.
 */
export function watch(name: string, watcher: Watcher): () => void {
  let set = watchers.get(name);
  if (!set) watchers.set(name, (set = new Set()));
  set.add(watcher);
  const current = published.get(name);
  if (current) watcher(current.liveState);
  return () => {
    set.delete(watcher);
    if (set.size === 0) watchers.delete(name);
  };
}
