/**
 * The wasm kernels in headless Chromium: bundles browser/page.ts (the backend from source), serves
 * it on 127.0.0.1 and checks that the SIMD GEMM and generated elementwise kernels run there and
 * agree with the JavaScript kernels. Without Chromium the suite skips and says why;
 * NABLA_REQUIRE_BROWSER=1 makes that a failure.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { rolldown } from 'rolldown';
import { describe, expect, it } from 'vitest';
import type { PageReport } from '../browser/page.js';

const TAG = '[backend-cpu browser test]';
const CANDIDATES = [process.env.NABLA_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => !!p);
const chromiumPath = CANDIDATES.find((p) => existsSync(p));
if (chromiumPath === undefined) {
  console.log(`${TAG} SKIPPED: no Chromium at ${CANDIDATES.join(', ')} (install Debian's 'chromium', or set NABLA_CHROMIUM)`);
  if (process.env.NABLA_REQUIRE_BROWSER === '1') throw new Error(`${TAG} NABLA_REQUIRE_BROWSER=1 but no Chromium`);
}

async function bundle(): Promise<string> {
  const b = await rolldown({
    input: fileURLToPath(new URL('../browser/page.ts', import.meta.url)),
    platform: 'browser',
    resolve: { conditionNames: ['source', 'import', 'default'] },
    tsconfig: true,
    logLevel: 'silent',
  });
  try {
    const { output } = await b.generate({ format: 'esm' });
    return output.filter((o) => o.type === 'chunk').map((c) => c.code).join('\n');
  } finally {
    await b.close();
  }
}

describe.skipIf(chromiumPath === undefined)('the wasm kernels in headless Chromium', () => {
  it('run the SIMD GEMM and elementwise kernels, agreeing with the JavaScript kernels', async () => {
    const code = await bundle();
    const server = createServer((req, res) => {
      if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const browser = await chromium.launch({ executablePath: chromiumPath!, headless: true, args: ['--no-sandbox'], timeout: 60_000 });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => '__nablaCpu' in globalThis, undefined, { timeout: 30_000 });
      const r = await page.evaluate(() => (globalThis as unknown as { __nablaCpu: () => Promise<PageReport> }).__nablaCpu());
      console.log(`${TAG} Chromium ${browser.version()}: ${r.describe}; ulps ${JSON.stringify(r.ulps)}; matmul rel err ${r.matmulErr.toExponential(1)}`);
      expect(errors).toEqual([]);
      expect(r.info.kernels).toBe('wasm-simd');
      expect(r.describe).toMatch(/WebAssembly SIMD/);
      expect(r.heapBytes).toBeGreaterThan(0);
      expect(r.matmulErr).toBeLessThan(1e-5);
      for (const [op, u] of Object.entries(r.ulps)) expect(u, op).toBeLessThanOrEqual(2);
      // Without cross-origin isolation there is no shared memory: one thread, and it says so.
      expect(r.crossOriginIsolated).toBe(false);
      expect(r.threadsDescribe).toMatch(/1 thread/);
    } finally {
      await browser.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 180_000);
});
