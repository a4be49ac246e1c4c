/**
 * `npm run docs` builds the site offline (TypeDoc over every package's TSDoc, with the guides as
 * documents); this test builds it into a scratch folder, opens its index in headless Chromium and
 * checks that a reader finds the guides and the API reference there. The screenshot is kept in
 * `.generated/site.png`. Without Chromium the test skips and says why; in CI (`CI=true`) it fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const out = fileURLToPath(new URL('../.generated/site', import.meta.url));
const CHROMIUM = process.env.NABLA_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  const why = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set NABLA_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(`[docs site] CI needs the browser check: ${why}`);
  console.log(`[docs site] SKIPPED the browser check: ${why}`);
}

describe('the docs site', () => {
  it('builds offline with TypeDoc, with no errors', () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [typedoc, '--out', out, '--logLevel', 'Error'], { cwd: root, encoding: 'utf8', timeout: 600_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
  }, 600_000);

  it.skipIf(!haveChromium)('opens in Chromium with the guides and every package listed', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(pathToFileURL(join(out, 'index.html')).href);
      expect(await page.title()).toMatch(/Nabla/);
      const links = await page.$$eval('a', (as) => as.map((a) => a.textContent?.trim() ?? ''));
      for (const guide of ['Getting started', 'Autograd', 'Devices and memory', 'Writing a backend', 'Writing a plugin', 'Performance', 'Introspection with hooks', 'Gradient checkpointing', 'The WebGL device']) {
        expect(links, `a link to the "${guide}" guide`).toContain(guide);
      }
      for (const pkg of ['core', 'backend-cpu', 'backend-webgpu', 'backend-webgl', 'nn', 'hooks', 'checkpoint', 'backend-testkit']) {
        expect(links, `a link to @nabla/${pkg}'s reference`).toContain(pkg);
      }
      for (const name of ['Tensor', 'gradcheck', 'checkBackend', 'Linear']) expect(links, `a link to ${name}`).toContain(name);
      await page.screenshot({ path: fileURLToPath(new URL('../.generated/site.png', import.meta.url)), fullPage: false });
      // A guide page renders its code.
      const href = await page.locator('a', { hasText: /^Writing a backend$/ }).first().getAttribute('href');
      await page.goto(new URL(href!, page.url()).href);
      expect(await page.locator('pre code').count()).toBeGreaterThan(3);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
