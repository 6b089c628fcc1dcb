/**
 * Reads a value out of the state by path: a JSON pointer (`/todos/0/text`) or a
 * dotted path (`todos.0.text`, as the original `phx-live-state` accepted). A missing
 * branch yields `undefined`, never an exception.
 */
export function readPath(state: unknown, path: string): unknown {
  const tokens = path.startsWith('/')
    ? path.slice(1).split('/').map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'))
    : path.split('.');
  let value = state;
  for (const token of tokens) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[token];
  }
  return value;
}
