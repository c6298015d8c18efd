import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The operator console: `npm run build` bundles this folder into dist/console, served at /console by src/console/console-page.ts.
const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/console/',
  logLevel: 'warn',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  resolve: { alias: { react: 'preact/compat', 'react-dom': 'preact/compat' } },
  build: {
    outDir: fileURLToPath(new URL('../../../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The polyfill would be an inline script, which the page's CSP refuses.
    modulePreload: { polyfill: false },
    // Every asset is a file: the CSP allows no inline data beyond images.
    assetsInlineLimit: (file) => (/\.(png|svg)$/.test(file) ? undefined : false),
    chunkSizeWarningLimit: 600,
    reportCompressedSize: false,
  },
});
