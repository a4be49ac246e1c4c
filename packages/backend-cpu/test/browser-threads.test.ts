/**
 * The CPU backend's worker pool on Web Workers, in headless Chromium (browser/threads-page.ts).
 *
 * - Cross-origin isolated (COOP/COEP headers), the page bundled *minified* as a production build
 *   ships it: `threads: 2` runs two threads on one Web Worker, from the page's main thread (which
 *   may not block, so the caller spins); a GEMM and large tanh/sigmoid/exp give the bits of a
 *   one-thread runtime, the pool ran them, `info`/`describe()` say 2 threads on Web Workers, and
 *   `runtime.dispose()` terminates the worker: Chromium's own list of the page's workers
 *   (Playwright's `page.workers()`) goes from 1 to 0. `threads: 'auto'` asks for
 *   navigator.hardwareConcurrency (at most 8) and starts that many. The same inside a dedicated
 *   worker, where the caller may sleep in Atomics.wait and the pool's worker is nested.
 * - Isolated, but the Content-Security-Policy forbids workers: one thread, the failure as reason.
 * - Not isolated: `threads: 2` gets one thread, no worker, and `info.threadsNote`/`describe()` say
 *   why.
 *
 * Without Chromium the suite skips and says why; NABLA_REQUIRE_BROWSER=1 makes that a failure.
 */
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlePage, chromiumOrSkip, ISOLATION_HEADERS, servePage } from '../../../scripts/test-support/chromium.js';
import type { ThreadsReport } from '../browser/threads-page.js';

const TAG = '[backend-cpu browser threads test]';
const chromiumPath = chromiumOrSkip(TAG);
const ENTRY = fileURLToPath(new URL('../browser/threads-page.ts', import.meta.url));

type PageApi = {
  run(threads: number | 'auto'): Promise<ThreadsReport>;
  dispose(): Promise<number>;
  runInWorker(threads: number | 'auto'): Promise<ThreadsReport>;
  disposeInWorker(): Promise<number>;
  endWorker(): void;
};

/** Waits (a generous while: 2 busy cores) until Chromium lists `n` workers for the page. */
async function workersBecome(page: Page, n: number, ms = 30_000): Promise<number> {
  const end = Date.now() + ms;
  while (page.workers().length !== n && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  return page.workers().length;
}

async function open(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => '__nablaThreads' in globalThis, undefined, { timeout: 60_000 });
  return { page, errors };
}

const run = (page: Page, threads: number | 'auto'): Promise<ThreadsReport> =>
  page.evaluate((t) => (globalThis as unknown as { __nablaThreads: PageApi }).__nablaThreads.run(t), threads);
const dispose = (page: Page): Promise<number> => page.evaluate(() => (globalThis as unknown as { __nablaThreads: PageApi }).__nablaThreads.dispose());
const runInWorker = (page: Page, threads: number | 'auto'): Promise<ThreadsReport> =>
  page.evaluate((t) => (globalThis as unknown as { __nablaThreads: PageApi }).__nablaThreads.runInWorker(t), threads);
const disposeInWorker = (page: Page): Promise<number> => page.evaluate(() => (globalThis as unknown as { __nablaThreads: PageApi }).__nablaThreads.disposeInWorker());
const endWorker = (page: Page): Promise<void> => page.evaluate(() => (globalThis as unknown as { __nablaThreads: PageApi }).__nablaThreads.endWorker());

const fmt = (r: ThreadsReport): string =>
  `${r.describe}; pool: ${r.poolJobs ?? '-'} GEMM jobs, ${r.poolTasks ?? '-'} elementwise tasks; ` +
  `ms (median of 5, indications only) matmul ${M_N_K} 1t ${r.ms.gemm1.toFixed(1)} / ${r.info.threads}t ${r.ms.gemmN.toFixed(1)}, ` +
  `tanh 2^19 1t ${r.ms.tanh1.toFixed(1)} / ${r.info.threads}t ${r.ms.tanhN.toFixed(1)}`;
const M_N_K = '384×512·512×320';

describe.skipIf(chromiumPath === undefined)('the CPU worker pool on Web Workers in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath!, headless: true, args: ['--no-sandbox'], timeout: 60_000 });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
  });

  it('cross-origin isolated, minified bundle: threads: 2 on a Web Worker gives one thread\'s bits; dispose() terminates it; \'auto\' = hardwareConcurrency', async () => {
    const server = await servePage(await bundlePage(ENTRY, { quiet: true, minify: true }), 'nabla cpu threads (isolated)', ISOLATION_HEADERS);
    try {
      const { page, errors } = await open(browser, server.url);
      expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
      expect(page.workers().length).toBe(0);

      const r = await run(page, 2);
      const seen = page.workers().length;
      console.log(`${TAG} mode: cross-origin isolated, minified bundle, caller on the page's main thread (${r.workers?.callerMayBlock === false ? 'spins' : 'sleeps'} while workers finish); Chromium ${browser.version()}: ${fmt(r)}; workers Chromium lists: ${seen}`);
      expect(errors).toEqual([]);
      expect(r.crossOriginIsolated).toBe(true);
      // Chromium has had relaxed SIMD since 114: the products multiply-add with FMA there.
      expect(r.info).toEqual({ kernels: 'wasm-simd', fma: true, threads: 2 });
      expect(r.describe).toMatch(/WebAssembly SIMD \(FMA\) \+ JavaScript, 2 threads on Web Workers, browser/);
      expect(r.workers).toEqual({ kind: 'web-worker', callerMayBlock: false });
      expect(r.liveWorkers).toBe(1);
      expect(seen).toBe(1);
      // The workload ran on the pool: every product and every large transcendental op.
      expect(r.poolJobs).toBeGreaterThanOrEqual(1);
      expect(r.poolTasks).toBeGreaterThanOrEqual(3);
      expect(r.sameBits).toEqual({ matmul: true, tanh: true, sigmoid: true, exp: true });
      expect(r.gemmErr).toBeLessThan(1e-5);

      expect(await dispose(page)).toBe(0);
      expect(await workersBecome(page, 0)).toBe(0);

      const auto = await run(page, 'auto');
      const want = Math.min(8, Math.max(1, auto.hardwareConcurrency));
      const autoSeen = await workersBecome(page, want - 1);
      console.log(`${TAG} mode: cross-origin isolated, threads: 'auto' with navigator.hardwareConcurrency ${auto.hardwareConcurrency}: ${auto.describe}; workers Chromium lists: ${autoSeen}`);
      expect(auto.info.threads).toBe(want);
      expect(autoSeen).toBe(want - 1);
      expect(Object.values(auto.sameBits).every((b) => b)).toBe(true);
      expect(await dispose(page)).toBe(0);
      expect(await workersBecome(page, 0)).toBe(0);

      // Nabla inside a dedicated worker: the caller may sleep there; the pool's worker is nested.
      const w = await runInWorker(page, 2);
      // Chromium lists the dedicated worker and the pool's worker nested in it.
      const nested = await workersBecome(page, 2);
      console.log(`${TAG} mode: cross-origin isolated, caller inside a dedicated worker (${w.workers?.callerMayBlock === true ? 'sleeps in Atomics.wait' : 'spins'}): ${fmt(w)}; workers Chromium lists: ${nested}`);
      expect(w.info).toEqual({ kernels: 'wasm-simd', fma: true, threads: 2 });
      expect(w.workers).toEqual({ kind: 'web-worker', callerMayBlock: true });
      expect(w.liveWorkers).toBe(1);
      expect(w.poolJobs).toBeGreaterThanOrEqual(1);
      expect(w.poolTasks).toBeGreaterThanOrEqual(3);
      expect(w.sameBits).toEqual({ matmul: true, tanh: true, sigmoid: true, exp: true });
      expect(nested).toBe(2);
      // runtime.dispose() inside the worker ends the nested pool worker while its parent lives on.
      expect(await disposeInWorker(page)).toBe(0);
      expect(await workersBecome(page, 1)).toBe(1);
      await endWorker(page);
      expect(await workersBecome(page, 0)).toBe(0);
      expect(errors).toEqual([]);
      await page.close();
    } finally {
      await server.close();
    }
  }, 240_000);

  it('isolated, but a Content-Security-Policy forbids workers: one thread, and the failure as the reason', async () => {
    const server = await servePage(await bundlePage(ENTRY, { quiet: true }), 'nabla cpu threads (CSP)', { ...ISOLATION_HEADERS, 'content-security-policy': "worker-src 'none'" });
    try {
      const { page } = await open(browser, server.url);
      const r = await run(page, 2);
      console.log(`${TAG} mode: cross-origin isolated, CSP worker-src 'none': ${r.describe}`);
      expect(r.crossOriginIsolated).toBe(true);
      expect(r.info.threads).toBe(1);
      expect(r.info.threadsNote).toMatch(/^2 asked: web-worker: a worker failed to start: .*Content-Security-Policy/);
      expect(r.workers).toBeNull();
      expect(page.workers().length).toBe(0);
      expect(Object.values(r.sameBits).every((b) => b)).toBe(true);
      await dispose(page);
      await page.close();
    } finally {
      await server.close();
    }
  }, 240_000);

  it('not isolated: threads: 2 runs one thread, starts no worker, and says why', async () => {
    const server = await servePage(await bundlePage(ENTRY, { quiet: true }), 'nabla cpu threads (not isolated)');
    try {
      const { page, errors } = await open(browser, server.url);
      const r = await run(page, 2);
      console.log(`${TAG} mode: not cross-origin isolated: ${r.describe}; workers Chromium lists: ${page.workers().length}`);
      expect(errors).toEqual([]);
      expect(r.crossOriginIsolated).toBe(false);
      expect(r.info.threads).toBe(1);
      expect(r.info.threadsNote).toMatch(/^2 asked: .*not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
      expect(r.describe).toContain(`1 thread (${r.info.threadsNote})`);
      expect(r.workers).toBeNull();
      expect(r.poolJobs).toBeNull();
      expect(page.workers().length).toBe(0);
      expect(Object.values(r.sameBits).every((b) => b)).toBe(true);
      expect(r.gemmErr).toBeLessThan(1e-5);
      await dispose(page);
      await page.close();
    } finally {
      await server.close();
    }
  }, 240_000);
});
