// A strict JSON Patch (RFC 6902) applier for add, remove and replace, as a host should be:
// every path must lead somewhere, a remove or replace needs its target, keys such as
// `__proto__` are plain keys. The document is changed in place and returned; values are
// put in as they are, so pass a patch freshly parsed.

const tokens = (path) => path.split('/').slice(1).map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const define = (object, key, value) =>
  Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });

/** The index `token` names in `array`; `end` is how far it may go (the length, for an add). */
function indexIn(array, token, end, path) {
  if (!/^(0|[1-9][0-9]*)$/.test(token) || Number(token) > end) throw new Error(`${path}: no index ${token}`);
  return Number(token);
}

/** The member `key` of `container`, which must exist. */
function child(container, key, path) {
  if (Array.isArray(container)) return container[indexIn(container, key, container.length - 1, path)];
  if (container !== null && typeof container === 'object' && hasOwn(container, key)) return container[key];
  throw new Error(`${path}: nothing at ${key}`);
}

function applyOne(document, { op, path, value }) {
  if (path === '') {
    if (op === 'remove') throw new Error('cannot remove the root');
    return value;
  }
  const keys = tokens(path);
  const last = keys.pop();
  const parent = keys.reduce((container, key) => child(container, key, path), document);
  if (Array.isArray(parent)) {
    if (op === 'add') parent.splice(last === '-' ? parent.length : indexIn(parent, last, parent.length, path), 0, value);
    else if (op === 'remove') parent.splice(indexIn(parent, last, parent.length - 1, path), 1);
    else if (op === 'replace') parent[indexIn(parent, last, parent.length - 1, path)] = value;
    else throw new Error(`unknown op ${op}`);
  } else if (parent !== null && typeof parent === 'object') {
    if (op !== 'add' && !hasOwn(parent, last)) throw new Error(`${path}: nothing to ${op}`);
    if (op === 'remove') delete parent[last];
    else if (op === 'add' || op === 'replace') define(parent, last, value);
    else throw new Error(`unknown op ${op}`);
  } else {
    throw new Error(`${path}: the parent is not a container`);
  }
  return document;
}

/** Applies `patch` to `document` in order. */
export function applyPatch(document, patch) {
  return patch.reduce(applyOne, document);
}
