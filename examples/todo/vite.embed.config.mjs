import { defineConfig } from 'vite';

// The script-tag bundle: <todo-list> and <todo-form> with Lit, phoenix and
// @livestate/elements inside, one classic script (dist/todo-elements.js) that any page can include.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    lib: {
      entry: 'src/elements.ts',
      name: 'TodoElements',
      formats: ['iife'],
      fileName: () => 'todo-elements.js',
    },
    minify: true,
  },
});
