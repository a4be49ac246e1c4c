/**
 * The pictures open in headless Chromium (playwright-core with Debian's chromium): the watch report
 * of a spiral MLP run shows its heatmaps (bright pixels inside each heatmap, a red NaN marker where
 * a NaN was planted), and toSVG's 2,000-node graph renders with every node. Screenshots are saved
 * under packages/hooks/screenshots/ (git-ignored) for a person to look at.
 */
import { writeFileSync } from 'node:fs';
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as nn from '@nabla/nn';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moduleScopes, toGraphHTML, toSVG, watch } from '../src/index.js';
import { openChromium, SCREENSHOTS, spiral, spiralMlp } from './helpers.js';

const opened = await openChromium();
if (!opened.ok) console.log(`[hooks screenshots] SKIPPED: ${opened.reason}`);

/** Pixels of an element's screenshot that are not the page background: [bright, red]. */
async function pixelCounts(page: Page, selector: string, file: string): Promise<{ bright: number; red: number; total: number }> {
  const el = page.locator(selector).first();
  await el.screenshot({ path: new URL(file, SCREENSHOTS).pathname });
  // Count in the page itself: draw the element's SVG into a canvas and read the pixels.
  return page.evaluate(async (sel) => {
    const svg = document.querySelector(sel) as SVGSVGElement;
    const xml = new XMLSerializer().serializeToString(svg);
    const img = new Image();
    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(xml);
    await img.decode();
    const c = document.createElement('canvas');
    c.width = svg.width.baseVal.value;
    c.height = svg.height.baseVal.value;
    const ctx = c.getContext('2d')!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let bright = 0;
    let red = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i]!, d[i + 1]!, d[i + 2]!];
      if (r > 200 && g < 80 && b < 80) red++;
      else if (g > 100) bright++; // viridis' greens and yellows
    }
    return { bright, red, total: d.length / 4 };
  }, selector);
}

describe.skipIf(!opened.ok)('screenshots in headless Chromium', () => {
  const browser = opened.ok ? opened.browser : (null as unknown as Browser);
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ plugins: [cpuBackend()] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('the watch report shows a heatmap per tensor and marks the NaN step', async () => {
    const model = spiralMlp(rt, 32);
    const d = spiral();
    const x = rt.tensor(d.x, { shape: [300, 2] });
    const y = rt.tensor(d.y, { shape: [300] });
    const opt = new nn.optim.Adam(model.parameters(), { lr: 0.02 });
    const rec = watch(model, { log: 'all', every: 5, bins: 30 });
    for (let step = 0; step < 120; step++) {
      rt.tidy(() => {
        opt.zeroGrad();
        nn.crossEntropy(model.call(x), y).backward();
        if (step === 60) rt.noGrad(() => (model.get(4) as nn.Linear).bias!.grad!.fill_(NaN)); // a planted NaN gradient
        if (step !== 60) opt.step();
      });
      rec.step();
    }
    const html = rec.toHTML({ title: 'spiral MLP' });
    writeFileSync(new URL('watch-report.html', SCREENSHOTS), html);
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.setContent(html);
    expect(await page.locator('svg.heatmap').count()).toBe(6 + 6 + 5); // grads, params, acts
    expect(await page.locator('.card.bad').count()).toBe(1);
    await page.screenshot({ path: new URL('watch-report.png', SCREENSHOTS).pathname, fullPage: true });
    const heat = await pixelCounts(page, 'svg.heatmap[data-name="2.weight"]', 'heatmap-2.weight.png');
    console.log(`[hooks screenshots] heatmap 2.weight: ${heat.bright} bright of ${heat.total} pixels`);
    expect(heat.bright).toBeGreaterThan(heat.total * 0.05);
    const bad = await pixelCounts(page, '.card.bad svg.heatmap', 'heatmap-nan.png');
    expect(bad.red).toBeGreaterThan(50);
    await page.close();
    rec.remove();
  }, 300_000);

  it("toSVG's 2,000-node graph renders every node; the module-collapsed MLP page toggles", async () => {
    const leaves = Array.from({ length: 8 }, (_, i) => rt.tensor([0.5, -0.25, 1 + i], { requiresGrad: true }));
    let h: Tensor = leaves[0]!;
    for (let i = 0; i < 2000; i++) h = i % 3 === 0 ? h.add(leaves[i % 8]!) : i % 3 === 1 ? h.tanh() : h.mul(1.0001);
    const svg = toSVG(h.sum());
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    await page.setContent(`<!doctype html><body style="margin:0">${svg}</body>`);
    const nodes = await page.locator('g.node').count();
    expect(nodes).toBeGreaterThanOrEqual(2000);
    const box = await page.locator('g.node rect').last().boundingBox();
    expect(box!.width).toBeGreaterThan(10);
    await page.screenshot({ path: new URL('graph-2000.png', SCREENSHOTS).pathname });

    const model = spiralMlp(rt, 8);
    const scopes = moduleScopes(model);
    const out = nn.crossEntropy(model.call(rt.randn([4, 2])), rt.tensor([0, 1, 2, 0], { dtype: 'int32' }));
    scopes.remove();
    const html = toGraphHTML(out, { params: model.namedParameters(), collapse: scopes, showSaved: true, title: 'spiral MLP' });
    await page.setContent(html);
    await page.screenshot({ path: new URL('graph-mlp-collapsed.png', SCREENSHOTS).pathname, fullPage: true });
    expect(await page.locator('#collapsed g.node.module').count()).toBe(5);
    await page.click('#toggle');
    expect(await page.locator('#full').isVisible()).toBe(true);
    await page.hover('#full g.node.fn >> nth=0');
    expect(await page.locator('#info').textContent()).toMatch(/output 0: shape/);
    await page.screenshot({ path: new URL('graph-mlp-full.png', SCREENSHOTS).pathname, fullPage: true });
    await page.close();
  }, 300_000);
});
