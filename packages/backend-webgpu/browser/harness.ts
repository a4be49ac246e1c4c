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
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bundlePage as bundle, findChromium, servePage } from '../../../scripts/test-support/chromium.js';
import { PAGE_GLOBAL, type AdapterReport, type GroupResult, type InitResult, type PageApi } from './protocol.js';

const PAGE_ENTRY = fileURLToPath(new URL('./page.ts', import.meta.url));

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
export function bundlePage(): Promise<string> {
  return bundle(PAGE_ENTRY, { sourcemap: true });
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
  const server = await servePage(code, 'nabla backend-webgpu tests');
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
