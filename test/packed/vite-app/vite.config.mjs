export default {
  base: './',
  build: { outDir: '../public/app', emptyOutDir: true },
};
