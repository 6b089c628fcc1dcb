import type { Payload } from './serializer.js';

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Decodes socket params as phoenix.js encodes them into the query string:
 * nested objects as `user[name]=ann&user[tags][0]=x`. Values stay strings.
 * `vsn` belongs to the protocol, not to the application, and is left out.
 */
export function parseSocketParams(query: URLSearchParams): Payload {
  const params: Payload = {};
  for (const [key, value] of query) {
    if (key === 'vsn') continue;
    const path = key.match(/[^[\]]+|\[[^[\]]*\]/g)?.map((part) => part.replace(/^\[|\]$/g, '')) ?? [key];
    if (path.some((part) => UNSAFE_KEYS.has(part))) continue;
    let target = params;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      target = (typeof next === 'object' && next !== null ? next : (target[part] = {})) as Payload;
    }
    target[path[path.length - 1]!] = value;
  }
  return params;
}
