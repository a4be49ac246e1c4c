/**
 * What the backends' browser tests share (backend-cpu, backend-webgl, backend-webgpu): finding
 * headless Chromium, skipping (or failing, under NABLA_REQUIRE_BROWSER=1) when there is none,
 * bundling a test page from source, and serving it on 127.0.0.1.
 *
 * It lives outside the packages so that no package ships it in its tarball and none imports
 * another's test code; only test files and the browser/ harnesses import it (vitest compiles it).
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rolldown } from 'rolldown';

/** Where Debian, Ubuntu and Chrome put Chromium; `NABLA_CHROMIUM` comes first. */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** Chromium's path, or why there is none. */
export function findChromium(): { path: string } | { reason: string } {
  const env = process.env.NABLA_CHROMIUM;
  if (env) return existsSync(env) ? { path: env } : { reason: `NABLA_CHROMIUM=${env} does not exist` };
  const found = CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  return found
    ? { path: found }
    : { reason: `no Chromium at ${CHROMIUM_CANDIDATES.join(', ')} (install Debian's 'chromium' package, or set NABLA_CHROMIUM)` };
}

/**
 * Chromium's path; without one, says why the suite `tag` skips, and throws under
 * NABLA_REQUIRE_BROWSER=1 (CI), where a skip would hide a missing browser.
 */
export function chromiumOrSkip(tag: string): string | undefined {
  const where = findChromium();
  if ('path' in where) return where.path;
  console.log(`${tag} SKIPPED: ${where.reason}`);
  if (process.env.NABLA_REQUIRE_BROWSER === '1') throw new Error(`${tag} NABLA_REQUIRE_BROWSER=1 but ${where.reason}`);
  return undefined;
}

/**
 * `entry` and what it imports as one ES module. Like vitest (vitest.shared.ts), workspace packages
 * come from source, never a stale build; each file is compiled with its package's tsconfig.json
 * (legacy decorators with metadata, which tsyringe in core needs). Bundler warnings are printed
 * unless `quiet` (a page whose warnings are known, e.g. a backend's Node-only import left external).
 * `minify`: as a user's production build would ship it (renamed bindings, inlined constants).
 */
export async function bundlePage(entry: string, opts: { sourcemap?: boolean; quiet?: boolean; minify?: boolean } = {}): Promise<string> {
  const warnings: string[] = [];
  const bundle = await rolldown({
    input: entry,
    platform: 'browser',
    resolve: { conditionNames: ['source', 'import', 'default'] },
    tsconfig: true,
    onLog(level, log) {
      if (level === 'warn') warnings.push(log.message);
    },
  });
  try {
    const { output } = await bundle.generate({ format: 'esm', sourcemap: opts.sourcemap ? 'inline' : false, minify: opts.minify === true });
    const chunks = output.filter((o) => o.type === 'chunk');
    if (chunks.length !== 1) throw new Error(`bundling ${entry} gave ${chunks.length} chunks, want 1: ${chunks.map((c) => c.fileName).join(', ')}`);
    if (warnings.length && !opts.quiet) console.log(`[browser tests] bundler warnings for ${entry}:\n  ${warnings.join('\n  ')}`);
    return chunks[0]!.code;
  } finally {
    await bundle.close();
  }
}

/** The response headers that make a page cross-origin isolated (`crossOriginIsolated`: SharedArrayBuffer exists). */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

/**
 * Serves a page that loads `code` as `/page.js`, on 127.0.0.1 (a secure context) at a free port;
 * `headers` go on every response (e.g. `ISOLATION_HEADERS`).
 */
export async function servePage(code: string, title = 'nabla browser tests', headers: Readonly<Record<string, string>> = {}): Promise<{ url: string; close(): Promise<void> }> {
  const html = `<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module" src="/page.js"></script>\n`;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers });
      res.end(html);
    } else if (path === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store', ...headers });
      res.end(code);
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
