/** `http://host:port/any/script.js` → `ws://host:port/socket` (`https:` → `wss:`). */
export function socketUrlFor(scriptUrl: string): string {
  const url = new URL('/socket', scriptUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

// `document.currentScript` is set only while a classic script runs, so it is read now, as
// this module is evaluated. In an ES module it is null: a bundled module's URL says little
// about where the LiveState server is.
const script = typeof document === 'undefined' ? null : document.currentScript;

/**
 * The socket of the server this library was loaded from, when it came in a classic
 * `<script src>` from http(s) (a script-tag bundle such as `livestate-elements.iife.js`):
 * `http://host:port/todo-elements.js` → `ws://host:port/socket`. The default `url` of every
 * LiveState, so an element served by a LiveState server finds it on any host and port.
 * `undefined` for ES modules.
 */
export const scriptSocketUrl: string | undefined =
  script instanceof HTMLScriptElement && /^https?:/.test(script.src) ? socketUrlFor(script.src) : undefined;
