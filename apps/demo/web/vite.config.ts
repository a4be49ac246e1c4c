// The web course: a plain Vite app (no framework). Workspace packages resolve to their TypeScript
// sources (the `source` export condition, as vitest does), so the course never runs a stale build.
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  resolve: { conditions: ['source', 'import', 'module', 'browser', 'default'] },
  // Not minified: class names stay readable in what the labs print (the NaN detector names the
  // module's class, stacks name functions), and a learner can read the shipped code.
  build: { outDir: '../dist-web', emptyOutDir: true, target: 'es2022', minify: false, chunkSizeWarningLimit: 4000 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
