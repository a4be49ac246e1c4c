/**
 * The backend in headless Chromium on WebGL2 (SwiftShader without a GPU): browser/page.ts runs
 * programs on cpu and webgl tensors and reports mismatches and which gpu.js kernel class ran.
 * Without Chromium the suite skips and says why; NABLA_REQUIRE_BROWSER=1 (CI) makes that a failure.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { rolldown } from 'rolldown';
import { afterAll, describe, expect, it } from 'vitest';
import type { PageReport } from '../browser/page.js';

const TAG = '[backend-webgl browser tests]';
const CHROMIUM = process.env['NABLA_CHROMIUM'] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
const required = process.env['NABLA_REQUIRE_BROWSER'] === '1';
if (!CHROMIUM) {
  console.log(`${TAG} SKIPPED: no Chromium at /usr/bin/chromium (install Debian's 'chromium' package, or set NABLA_CHROMIUM)`);
  if (required) throw new Error(`${TAG} NABLA_REQUIRE_BROWSER=1 but there is no Chromium`);
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
    return output.filter((o) => o.type === 'chunk').map((c) => (c as { code: string }).code).join('\n');
  } finally {
    await b.close();
  }
}

describe.skipIf(!CHROMIUM)('backend-webgl in headless Chromium (WebGL2)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it('runs ops, gradients and training on a WebGL2Kernel, matching the cpu', async () => {
    const code = await bundle();
    const server = createServer((req, res) => {
      if (req.url === '/page.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/page.js"></script>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const browser = await chromium.launch({
      executablePath: CHROMIUM!,
      headless: true,
      args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist'],
    });
    cleanup.push(() => browser.close());
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
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
