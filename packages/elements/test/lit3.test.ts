import { expect } from 'chai';
import { LitElement } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { liveState, liveStateConfig, liveStateProperty, type LiveStateController } from '../src/index.js';
import { serverUrl, uniqueTopic, until } from './support.js';

// Lit 3 only: `accessor` fields (which Lit 2 does not wrap) and standard decorators.

@customElement('accessor-todos')
@liveState({ properties: ['count'] })
class AccessorTodos extends LitElement {
  @property() @liveStateConfig('url') accessor url = '';
  @property() @liveStateConfig('topic') accessor topic = '';
  @property({ attribute: 'label-a' }) @liveStateProperty('label') accessor labelA = 'initial a';
  @liveStateProperty('label') @property({ attribute: 'label-b' }) accessor labelB = 'initial b';
  @liveStateProperty('nested.deep.value') accessor deep: string | undefined;
  declare liveStateController: LiveStateController;
}

describe('Lit 3: accessor fields and standard decorators', () => {
  it('accessor fields keep their initial values, attributes and state updates, in either decorator order', async () => {
    const el = document.createElement('accessor-todos') as AccessorTodos;
    expect([el.labelA, el.labelB]).to.deep.equal(['initial a', 'initial b']);
    el.setAttribute('url', await serverUrl());
    el.setAttribute('topic', uniqueTopic('echo'));
    document.body.append(el);
    await until(() => el.deep === 'found' && el.labelA === 'echo' && el.labelB === 'echo');
    el.setAttribute('label-a', 'a');
    el.setAttribute('label-b', 'b');
    expect([el.labelA, el.labelB]).to.deep.equal(['a', 'b']);
    el.remove();
  });

  /** A standard decorator context, as a compiler would pass it (Chromium cannot parse standard decorators yet). */
  const standardContext = (kind: 'accessor' | 'field', name: string, initializers: Array<(this: object) => void>, metadata: object = {}) =>
    ({
      kind,
      name,
      static: false,
      private: false,
      access: { has: () => true, get: () => undefined, set: () => undefined },
      addInitializer: (init: () => void) => initializers.push(init),
      metadata,
    }) as unknown as ClassAccessorDecoratorContext<LitElement, unknown>;

  it('works as a standard decorator too', async () => {
    const initializers: Array<(this: object) => void> = [];
    const accessor = { get: () => undefined, set: () => undefined };
    const decorated = liveStateProperty('todos')(accessor, standardContext('accessor', 'todos', initializers));
    expect(decorated).to.have.property('set');
    liveStateConfig('url')(undefined, standardContext('field', 'endpoint', initializers) as unknown as ClassFieldDecoratorContext);
    class Standard extends LitElement {}
    const instance = Object.create(Standard.prototype);
    initializers.forEach((init) => init.call(instance));
    const { metadataOf } = await import('../src/element-metadata.js');
    expect(metadataOf(Standard)).to.deep.equal({ properties: [{ name: 'todos', path: 'todos' }], config: { url: 'endpoint' } });
  });

  it('as a standard decorator with @property(), in either order, leaves the property its attribute', () => {
    const declared = (metadata: object) =>
      (globalThis as unknown as { litPropertyMetadata: WeakMap<object, Map<string, { attribute?: unknown; state?: boolean }>> }).litPropertyMetadata
        .get(metadata)!
        .get('apiKey');
    const accessor = { get: () => undefined, set: () => undefined };
    for (const liveFirst of [true, false]) {
      const metadata = {};
      const context = standardContext('accessor', 'apiKey', [], metadata);
      type Decorator = (target: typeof accessor, context: ClassAccessorDecoratorContext<LitElement, unknown>) => unknown;
      const [live, prop] = [liveStateProperty() as Decorator, property({ attribute: 'api-key' }) as Decorator];
      const [inner, outer] = liveFirst ? [live, prop] : [prop, live];
      outer((inner(accessor, context) ?? accessor) as typeof accessor, context);
      expect(declared(metadata), liveFirst ? '@property() @liveStateProperty()' : '@liveStateProperty() @property()').to.include({ attribute: 'api-key' });
      expect(declared(metadata)?.state).not.to.equal(true);
    }
  });
});
