/**
 * The wasm kernels in headless Chromium: bundles browser/page.ts (the backend from source), serves
 * it on 127.0.0.1 and checks that the SIMD GEMM and generated elementwise kernels run there and
 * agree with the JavaScript kernels. Without Chromium the suite skips and says why;
 * NABLA_REQUIRE_BROWSER=1 makes that a failure.
 */
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { bundlePage, chromiumOrSkip, servePage } from '../../../scripts/test-support/chromium.js';
import type { PageReport } from '../browser/page.js';

const TAG = '[backend-cpu browser test]';
const chromiumPath = chromiumOrSkip(TAG);

describe.skipIf(chromiumPath === undefined)('the wasm kernels in headless Chromium', () => {
  it('run the SIMD GEMM and elementwise kernels, agreeing with the JavaScript kernels', async () => {
    const server = await servePage(await bundlePage(fileURLToPath(new URL('../browser/page.ts', import.meta.url)), { quiet: true }), 'nabla backend-cpu tests');
    const browser = await chromium.launch({ executablePath: chromiumPath!, headless: true, args: ['--no-sandbox'], timeout: 60_000 });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(server.url);
      await page.waitForFunction(() => '__nablaCpu' in globalThis, undefined, { timeout: 30_000 });
      const r = await page.evaluate(() => (globalThis as unknown as { __nablaCpu: () => Promise<PageReport> }).__nablaCpu());
      console.log(`${TAG} Chromium ${browser.version()}: ${r.describe}; ulps ${JSON.stringify(r.ulps)}; matmul rel err ${r.matmulErr.toExponential(1)}`);
      expect(errors).toEqual([]);
      expect(r.info.kernels).toBe('wasm-simd');
      // Chromium has had relaxed SIMD since 114: the product above ran the FMA micro-kernel.
      expect(r.info.fma).toBe(true);
      expect(r.describe).toMatch(/WebAssembly SIMD \(FMA\)/);
      expect(r.heapBytes).toBeGreaterThan(0);
      expect(r.matmulErr).toBeLessThan(1e-5);
      for (const [op, u] of Object.entries(r.ulps)) expect(u, op).toBeLessThanOrEqual(2);
      // Without cross-origin isolation there is no shared memory: one thread, and it says so.
      expect(r.crossOriginIsolated).toBe(false);
      expect(r.threadsDescribe).toMatch(/1 thread/);
    } finally {
      await browser.close();
      await server.close();
    }
  }, 180_000);
});
