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
});
