/**
 * The Node side of the browser tests: bundles `page.ts` (with core, the cpu backend and this
 * backend, from source), serves it on 127.0.0.1 (a secure context, so `navigator.gpu` exists),
 * and drives headless Chromium through playwright-core.
 *
 * Chromium is looked for at `NABLA_CHROMIUM`, then where Debian, Ubuntu and Chrome put it;
 * `NABLA_CHROMIUM_ARGS` adds flags (space-separated, e.g. `--enable-features=Vulkan` for a real
 * GPU). On a machine without a GPU, Chromium's WebGPU (Dawn) runs on the SwiftShader Vulkan
 * driver that Chromium ships: a fallback adapter, which `--enable-unsafe-webgpu` lets it offer.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { rolldown } from 'rolldown';
import { PAGE_GLOBAL, type AdapterReport, type GroupResult, type InitResult, type PageApi } from './protocol.js';

const PAGE_ENTRY = fileURLToPath(new URL('./page.ts', import.meta.url));

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/**
 * `--enable-unsafe-webgpu` turns WebGPU on where Chromium's GPU blocklist would keep it off
 * (Linux, software rendering); `--enable-webgpu-developer-features` fills in the adapter info
 * (description, driver) that browsers otherwise blank out.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-webgpu',
  '--enable-webgpu-developer-features',
];

/** The page's module: `page.ts` and what it imports, one ES module, source-mapped inline. */
export async function bundlePage(): Promise<string> {
  const warnings: string[] = [];
  const bundle = await rolldown({
    input: PAGE_ENTRY,
    platform: 'browser',
    // Like vitest (vitest.shared.ts): workspace packages from source, never a stale build.
    // Each file is compiled with its package's tsconfig.json (legacy decorators with metadata,
    // which tsyringe in core needs).
    resolve: { conditionNames: ['source', 'import', 'default'] },
    tsconfig: true,
    onLog(level, log) {
      if (level === 'warn') warnings.push(log.message);
    },
  });
  try {
    const { output } = await bundle.generate({ format: 'esm', sourcemap: 'inline' });
    const chunks = output.filter((o) => o.type === 'chunk');
    if (chunks.length !== 1) throw new Error(`bundling ${PAGE_ENTRY} gave ${chunks.length} chunks, want 1: ${chunks.map((c) => c.fileName).join(', ')}`);
    if (warnings.length) console.log(`[browser tests] bundler warnings:\n  ${warnings.join('\n  ')}`);
    return chunks[0]!.code;
  } finally {
    await bundle.close();
  }
}

const HTML = '<!doctype html><meta charset="utf-8"><title>nabla backend-webgpu tests</title><script type="module" src="/page.js"></script>\n';

/** Serves the page and its module on 127.0.0.1 at a free port. */
export async function servePage(code: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(HTML);
    } else if (path === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
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

export function findChromium(): { path: string } | { reason: string } {
  const env = process.env.NABLA_CHROMIUM;
  if (env) return existsSync(env) ? { path: env } : { reason: `NABLA_CHROMIUM=${env} does not exist` };
  const found = CHROMIUM_CANDIDATES.find((p) => existsSync(p));
  return found
    ? { path: found }
    : { reason: `no Chromium at ${CHROMIUM_CANDIDATES.join(', ')} (install Debian's 'chromium' package, or set NABLA_CHROMIUM)` };
}

export interface BrowserSession {
  readonly chromium: string;
  readonly browserVersion: string;
  readonly adapter: AdapterReport;
  /** Runs one check group in the page. */
  run(group: string): Promise<GroupResult>;
  /** Page errors and console errors/warnings since the last call. */
  drainLog(): string[];
  close(): Promise<void>;
}

export type OpenResult = { readonly ok: true; readonly session: BrowserSession } | { readonly ok: false; readonly reason: string };

/**
 * Bundles, serves, launches and initialises the page. Resolves `{ ok: false }` with the reason
 * when there is no Chromium or no WebGPU adapter in it (the suite skips); rejects on anything
 * else (a bundling error, a page that fails to load: the suite fails).
 */
export async function openBrowserSession(): Promise<OpenResult> {
  const where = findChromium();
  if ('reason' in where) return { ok: false, reason: where.reason };
  const code = await bundlePage();
  const server = await servePage(code);
  let browser: Browser | null = null;
  const closeAll = async () => {
    await browser?.close().catch(() => {});
    await server.close();
  };
  try {
    try {
      const extra = (process.env.NABLA_CHROMIUM_ARGS ?? '').split(/\s+/).filter((a) => a);
      browser = await chromium.launch({ executablePath: where.path, headless: true, args: [...CHROMIUM_ARGS, ...extra], timeout: 30_000 });
    } catch (e) {
      await closeAll();
      return { ok: false, reason: `Chromium at ${where.path} did not start: ${(e as Error).message.split('\n')[0]}` };
    }
    const page: Page = await browser.newPage();
    let log: string[] = [];
    page.on('pageerror', (e) => log.push(`page error: ${e.stack ?? e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') log.push(`console.${m.type()}: ${m.text()}`);
    });
    await page.goto(server.url, { waitUntil: 'load' });
    await page
      .waitForFunction((name) => name in globalThis, PAGE_GLOBAL, { timeout: 20_000 })
      .catch((e: Error) => {
        throw new Error(`the test page did not start (${e.message.split('\n')[0]}); page log:\n${log.join('\n') || '(empty)'}`);
      });
    const init = await page.evaluate((name) => (globalThis as unknown as Record<string, PageApi>)[name]!.init(), PAGE_GLOBAL);
    if (!init.ok) {
      await closeAll();
      return { ok: false, reason: `Chromium ${browser.version()} at ${where.path}: ${(init as Extract<InitResult, { ok: false }>).reason}` };
    }
    const b = browser;
    const session: BrowserSession = {
      chromium: where.path,
      browserVersion: b.version(),
      adapter: init.adapter,
      run: (group) => page.evaluate(([name, g]) => (globalThis as unknown as Record<string, PageApi>)[name]!.run(g), [PAGE_GLOBAL, group] as const),
      drainLog: () => {
        const out = log;
        log = [];
        return out;
      },
      close: closeAll,
    };
    return { ok: true, session };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
