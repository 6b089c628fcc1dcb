import { expect } from 'chai';
import { serverUrl, uniqueTopic, until } from './support.js';

describe('the script-tag bundle', () => {
  it('lets a plain HTML page define and connect an element with one <script> tag', async () => {
    const frame = document.body.appendChild(document.createElement('iframe'));
    const query = new URLSearchParams({ url: await serverUrl(), topic: uniqueTopic('todo') });
    frame.src = `/packages/elements/test/fixtures/script-tag.html?${query}`;
    await new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
    const root = () => frame.contentDocument!.querySelector('plain-todos')?.shadowRoot;
    await until(() => !!root()?.querySelector('button'));
    const pageScripts = [...frame.contentDocument!.querySelectorAll<HTMLScriptElement>('script[src]')].filter((script) =>
      script.src.includes('/packages/'),
    );
    expect(pageScripts.map((script) => new URL(script.src).pathname)).to.deep.equal(['/packages/elements/dist/cdn/livestate-elements.iife.js']);
    await until(() => (root()!.host as any).liveStateController.connected);
    root()!.querySelector('button')!.click();
    await until(() => root()!.querySelectorAll('li').length === 1);
    expect(root()!.querySelector('li')!.textContent).to.equal('from a plain page');
    frame.remove();
  });

  it('finds its socket from the URL of the script it came from, on a page served elsewhere', async () => {
    const { origin } = await (await fetch('/__livestate__/bundle-origin')).json();
    const frame = document.body.appendChild(document.createElement('iframe'));
    frame.src = `/packages/elements/test/fixtures/script-default-url.html?${new URLSearchParams({ origin, topic: uniqueTopic('todo') })}`;
    const page = () => frame.contentWindow as (Window & { LiveStateElements?: { scriptSocketUrl?: string } }) | null;
    const root = () => frame.contentDocument?.querySelector('default-url-todos')?.shadowRoot;
    await until(() => !!root()?.querySelector('button'));
    expect(page()!.LiveStateElements!.scriptSocketUrl).to.equal(`${origin.replace('http:', 'ws:')}/socket`);
    await until(() => (root()!.host as HTMLElement & { liveStateController: { connected: boolean } }).liveStateController.connected);
    root()!.querySelector('button')!.click();
    await until(() => root()!.querySelectorAll('li').length === 1);
    expect(root()!.querySelector('li')!.textContent).to.equal('found my server');
    frame.remove();
  });
});
