/**
 * The backend in headless Chromium on WebGL2 (SwiftShader without a GPU): browser/page.ts runs
 * programs on cpu and webgl tensors and reports mismatches and which gpu.js kernel class ran.
 * Without Chromium the suite skips and says why; NABLA_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { bundlePage, chromiumOrSkip, servePage } from '../../../scripts/test-support/chromium.js';
import type { PageReport } from '../browser/page.js';

const TAG = '[backend-webgl browser tests]';
const CHROMIUM = chromiumOrSkip(TAG);

describe.skipIf(!CHROMIUM)('backend-webgl in headless Chromium (WebGL2)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it('runs ops, gradients and training on a WebGL2Kernel, matching the cpu', async () => {
    const server = await servePage(await bundlePage(fileURLToPath(new URL('../browser/page.ts', import.meta.url)), { quiet: true }), 'nabla backend-webgl tests');
    cleanup.push(() => server.close());
    const browser = await chromium.launch({
      executablePath: CHROMIUM!,
      headless: true,
      args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
    });
    cleanup.push(() => browser.close());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await page.waitForFunction(() => '__nablaWebglTests' in globalThis, undefined, { timeout: 30_000 });
    const r = await page.evaluate(() => (globalThis as unknown as { __nablaWebglTests: () => Promise<PageReport> }).__nablaWebglTests());
    console.log(`${TAG} Chromium ${browser.version()}: ${r.ok ? `gpu.js ${r.kernelClass} on ${r.renderer} (${r.glVersion})` : `no webgl: ${r.reason}`}; ${r.checks} checks, ${r.failures.length} failed`);
    expect(errors).toEqual([]);
    expect(r.reason).toBeUndefined();
    expect(r.kernelClass).toBe('WebGL2Kernel');
    expect(r.failures).toEqual([]);
    expect(r.checks).toBeGreaterThanOrEqual(13);
  }, 180_000);
});
