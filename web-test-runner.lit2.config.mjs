// The element tests again, against Lit 2 (`lit2`, an alias of lit@2 in @livestate/elements'
// devDependencies): `lit` and `lit/*` imports resolve to it. The files that need Lit 3
// (accessor fields, standard decorators) and the script-tag bundle (which carries Lit 3)
// are left out.
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import config from './web-test-runner.config.mjs';

const requireFromElements = createRequire(new URL('./packages/elements/package.json', import.meta.url));

/** Resolves `lit` and `lit/<path>` to the same module of lit@2. */
function lit2() {
  return {
    name: 'lit-2',
    resolveImport({ source }) {
      if (source !== 'lit' && !source.startsWith('lit/')) return undefined;
      const file = requireFromElements.resolve(source.replace(/^lit/, 'lit2'));
      return `/${relative(config.rootDir, file)}`;
    },
  };
}

export default {
  ...config,
  files: [...config.files, '!packages/elements/test/lit3.test.ts', '!packages/elements/test/script-tag.test.ts'],
  plugins: [lit2(), ...config.plugins],
  // Tells lit.test.ts which major it should find.
  testRunnerHtml: (testFramework) =>
    `<html><body><script>window.expectedLitMajor = 2;</script><script type="module" src="${testFramework}"></script></body></html>`,
};
