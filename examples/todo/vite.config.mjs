import { defineConfig } from 'vite';

// The app: index.html and its elements, built into dist/ (with public/embed.html copied as is).
export default defineConfig({
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
