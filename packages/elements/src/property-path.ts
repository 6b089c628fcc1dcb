/**
 * Reads a value out of the state by path: a JSON pointer (`/todos/0/text`) or a
 * dotted path (`todos.0.text`, as the original `phx-live-state` accepted). A missing
 * branch yields `undefined`, never an exception.
 */
export function readPath(state: unknown, path: string): unknown {
  const tokens = path.startsWith('/')
    ? path.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    : path.split('.');
  return tokens.reduce(ownValue, state);
}

/** `container[key]` when it is the container's own property (never an inherited member such as `constructor`), else `undefined`. */
export function ownValue(container: unknown, key: string): unknown {
  if (typeof container !== 'object' || container === null || !Object.hasOwn(container, key)) return undefined;
  return (container as Record<string, unknown>)[key];
}
