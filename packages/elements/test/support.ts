/** Helpers for tests that run in Chromium against the live-server plugin's real server. */

export async function serverUrl(): Promise<string> {
  return (await (await fetch('/__livestate__/url')).json()).url;
}

export async function joinCount(topic: string): Promise<number> {
  return (await (await fetch(`/__livestate__/joins?topic=${encodeURIComponent(topic)}`)).json()).joins;
}

/** Stops or starts the real server. */
export async function server(action: 'stop' | 'start'): Promise<void> {
  await fetch(`/__livestate__/${action}`, { method: 'POST' });
}

let topics = 0;
/** A topic no other test uses. */
export const uniqueTopic = (prefix: string): string => `${prefix}:${Date.now().toString(36)}-${++topics}`;

/** The next `type` event on `target` whose detail passes `accept`. */
export function nextEvent<T = any>(
  target: EventTarget,
  type: string,
  accept: (detail: T) => boolean = () => true,
): Promise<CustomEvent<T>> {
  return new Promise((resolve) => {
    const listener = (event: Event) => {
      if (!accept((event as CustomEvent<T>).detail)) return;
      target.removeEventListener(type, listener);
      resolve(event as CustomEvent<T>);
    };
    target.addEventListener(type, listener);
  });
}

/** Resolves when `condition()` holds, checking after every animation frame. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => requestAnimationFrame(resolve));
}

let runs = 0;
/**
 * A LiveState-ready socket URL on which the scripted server replays `fixtures/transcripts/<name>.transcript`,
 * and `outcome()`, which resolves once the replay has played every frame (or failed).
 */
export async function transcript(name: string): Promise<{ url: string; outcome: () => Promise<{ done: boolean; errors: string[] }> }> {
  const run = `${Date.now().toString(36)}-${++runs}`;
  const { url } = await (await fetch(`/__livestate__/transcript-url?name=${name}&run=${run}`)).json();
  return { url, outcome: async () => (await fetch(`/__livestate__/transcript-outcome?run=${run}`)).json() };
}

/** Every `type` event on `target` from now on, in order. */
export function collect<T = unknown>(target: EventTarget, type: string): T[] {
  const details: T[] = [];
  target.addEventListener(type, (event) => details.push((event as CustomEvent<T>).detail));
  return details;
}
