import { defineConfig } from 'vite';

// The script-tag bundle: @livestate/elements with Lit and phoenix inside, as ESM and as
// an IIFE that defines the global `LiveStateElements`. (The ESM build for bundlers is
// tsc's output in dist/, with lit and phoenix left to the application.)
export default defineConfig({
  build: {
    outDir: 'dist/cdn',
    emptyOutDir: true,
    sourcemap: true,
    lib: {
      entry: 'src/cdn.ts',
      name: 'LiveStateElements',
      formats: ['es', 'iife'],
      fileName: (format) => (format === 'es' ? 'livestate-elements.js' : 'livestate-elements.iife.js'),
    },
    minify: true,
    // Library mode leaves ES output unminified unless rolldown is told to minify it.
    rolldownOptions: { output: { minify: true } },
  },
});
