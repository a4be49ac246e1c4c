/**
 * The wasm path in headless Chromium with and without cross-origin isolation: the page is served
 * once with COOP/COEP headers (crossOriginIsolated, SharedArrayBuffer available: the memory a
 * threaded backend runs on is shared, and the GEMM and generated kernels must run on it and agree
 * with the JavaScript kernels) and once without (no shared memory: a backend asked for two
 * threads runs on one and says why in `info.threadsNote` and `describe()`). Isolated, a backend
 * asked for two threads runs them on a Web Worker (browser-threads.test.ts tests that pool in
 * depth); in both, it gives the same bits as one with a single thread. Without Chromium the suite skips and
 * says why; NABLA_REQUIRE_BROWSER=1 makes that a failure.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { rolldown } from 'rolldown';
import { describe, expect, it } from 'vitest';
import type { IsolatedReport } from '../browser/isolated-page.js';

const TAG = '[backend-cpu isolated browser test]';
const CANDIDATES = [process.env.NABLA_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].filter((p): p is string => !!p);
const chromiumPath = CANDIDATES.find((p) => existsSync(p));
if (chromiumPath === undefined) {
  console.log(`${TAG} SKIPPED: no Chromium at ${CANDIDATES.join(', ')} (install Debian's 'chromium', or set NABLA_CHROMIUM)`);
  if (process.env.NABLA_REQUIRE_BROWSER === '1') throw new Error(`${TAG} NABLA_REQUIRE_BROWSER=1 but no Chromium`);
}

async function bundle(): Promise<string> {
  const b = await rolldown({
    input: fileURLToPath(new URL('../browser/isolated-page.ts', import.meta.url)),
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

/** Serves the page; `isolated` adds the headers that make it cross-origin isolated. */
async function serve(code: string, isolated: boolean): Promise<{ url: string; server: Server }> {
  const headers = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const server = createServer((req, res) => {
    if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript', ...headers }).end(code);
    else res.writeHead(200, { 'content-type': 'text/html', ...headers }).end('<!doctype html><script type="module" src="/page.js"></script>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

async function report(browser: Browser, url: string): Promise<{ r: IsolatedReport; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => '__nablaIsolated' in globalThis, undefined, { timeout: 30_000 });
  const r = await page.evaluate(() => (globalThis as unknown as { __nablaIsolated: () => Promise<IsolatedReport> }).__nablaIsolated());
  await page.close();
  return { r, errors };
}

describe.skipIf(chromiumPath === undefined)('the wasm path in headless Chromium, cross-origin isolated and not', () => {
  it('isolated: the kernels run on shared memory and agree with JavaScript; threads give the same bits. Not isolated: one thread, said so', async () => {
    const code = await bundle();
    const iso = await serve(code, true);
    const plain = await serve(code, false);
    const browser = await chromium.launch({ executablePath: chromiumPath!, headless: true, args: ['--no-sandbox'], timeout: 60_000 });
    try {
      const a = await report(browser, iso.url);
      const b = await report(browser, plain.url);
      console.log(`${TAG} Chromium ${browser.version()}: isolated: ${a.r.threadsDescribe}, pool jobs ${a.r.poolJobs}, matmul err ${a.r.sharedMatmulErr?.toExponential(1)}, silu err ${a.r.sharedSiluErr?.toExponential(1)}; not isolated: ${b.r.threadsDescribe}`);
      expect(a.errors).toEqual([]);
      expect(b.errors).toEqual([]);

      expect(a.r.crossOriginIsolated).toBe(true);
      expect(a.r.sharedArrayBuffer).toBe(true);
      expect(a.r.sharedHeap).toBe(true);
      expect(a.r.sharedMatmulErr).toBeLessThan(1e-5);
      expect(a.r.sharedSiluErr).toBeLessThan(1e-5);
      expect(a.r.threadsInfo.kernels).toBe('wasm-simd');
      expect(a.r.threadedSameBits).toBe(true);
      // Cross-origin isolated: two threads, on Web Workers, and the product ran on the pool.
      expect(a.r.threadsInfo.threads).toBe(2);
      expect(a.r.threadsDescribe).toContain('2 threads on Web Workers');
      expect(a.r.poolJobs).toBeGreaterThan(0);

      expect(b.r.crossOriginIsolated).toBe(false);
      expect(b.r.sharedArrayBuffer).toBe(false);
      expect(b.r.sharedHeap).toBeNull();
      expect(b.r.threadsInfo).toMatchObject({ kernels: 'wasm-simd', threads: 1 });
      expect(b.r.threadsInfo.threadsNote).toMatch(/^2 asked: the page is not cross-origin isolated/);
      expect(b.r.threadsDescribe).toMatch(/WebAssembly SIMD \(FMA\) \+ JavaScript, 1 thread \(2 asked: the page is not cross-origin isolated.*\), browser/);
      expect(b.r.poolJobs).toBeNull();
      expect(b.r.threadedSameBits).toBe(true);
    } finally {
      await browser.close();
      for (const s of [iso.server, plain.server]) await new Promise<void>((r) => s.close(() => r()));
    }
  }, 180_000);
});
