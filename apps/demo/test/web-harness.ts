/**
 * Builds the web course with Vite, serves the build on 127.0.0.1 at a free port, and opens it in
 * headless Chromium through playwright-core with WebGPU (Dawn on SwiftShader) and WebGL2 (ANGLE on
 * SwiftShader) turned on, as the backends' own browser tests do.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const WEB_ROOT = fileURLToPath(new URL('../web/', import.meta.url));
export const DIST = fileURLToPath(new URL('../dist-web/', import.meta.url));
export const SHOTS = fileURLToPath(new URL('../test-screenshots/', import.meta.url));

export const CHROMIUM = process.env.NABLA_CHROMIUM ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));

/** backend-webgpu's harness flags, plus backend-webgl's (ANGLE on SwiftShader for WebGL2). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--enable-unsafe-webgpu',
  '--enable-webgpu-developer-features',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
];

export async function buildApp(): Promise<void> {
  const { build } = await import('vite');
  await build({ configFile: join(WEB_ROOT, 'vite.config.ts'), logLevel: 'warn' });
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };

/** A static server over the build. */
export async function serve(dir = DIST): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (!file.startsWith(dir) || !existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

export async function launch(): Promise<Browser> {
  const extra = (process.env.NABLA_CHROMIUM_ARGS ?? '').split(/\s+/).filter((a) => a);
  return chromium.launch({ executablePath: CHROMIUM!, headless: true, args: [...CHROMIUM_ARGS, ...extra], timeout: 60_000 });
}

/** Opens a lab (`training?steps=200`: with the lab's own options) and waits until its lesson has finished (or failed); collects page errors. */
export async function openLab(browser: Browser, url: string, route: string, device = 'cpu', timeout = 300_000): Promise<{ page: Page; status: string; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${url}?device=${device}#/${route}`);
  const lab = route.split('?')[0]!;
  const section = page.locator(`section.page[data-page="${lab}"]`);
  await section.waitFor({ timeout: 120_000 });
  await page.waitForFunction((id) => {
    const s = document.querySelector(`section.page[data-page="${id}"]`) as HTMLElement | null;
    return s?.dataset.status === 'done' || s?.dataset.status === 'error';
  }, lab, { timeout, polling: 500 });
  const status = `${await section.getAttribute('data-status')}: ${await section.locator('.status').first().textContent()}`;
  return { page, status, errors };
}
