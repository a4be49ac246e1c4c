/**
 * The browser side of the webgl browser test: core, the cpu backend and this backend bundled into
 * one module. It runs the same programs on cpu and webgl tensors (WebGL2 on the page's GL:
 * SwiftShader in headless Chromium) and reports what ran and every mismatch as JSON.
 */
import { autograd, createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { randoms } from '@nabla/backend-testkit';
import { backendInfo, webglBackend } from '../src/index.js';

export interface PageReport {
  ok: boolean;
  reason?: string;
  kernelClass?: string;
  renderer?: string;
  glVersion?: string;
  checks: number;
  failures: string[];
  notes: string[];
}

async function run(): Promise<PageReport> {
  const report: PageReport = { ok: false, checks: 0, failures: [], notes: [] };
  let rt: Runtime;
  try {
    rt = await createRuntime({ plugins: [cpuBackend(), webglBackend()] });
  } catch (e) {
    report.reason = (e as Error).message;
    return report;
  }
  const close = async (label: string, f: (device: string) => Tensor | Promise<Tensor>, tol = 1e-4): Promise<void> => {
    report.checks++;
    try {
      const c = Array.from((await f('cpu')).dataSync());
      const t = await f('webgl');
      const g = Array.from(await t.data()); // asynchronous, fence-based read
      if (t.device !== 'webgl') report.failures.push(`${label}: ran on ${t.device}`);
      if (g.length !== c.length) return void report.failures.push(`${label}: length ${g.length}, want ${c.length}`);
      const bad = g.findIndex((v, i) => !(Math.abs(v - c[i]!) <= tol * Math.max(1, Math.abs(c[i]!))) && !(Number.isNaN(v) && Number.isNaN(c[i]!)));
      if (bad >= 0) report.failures.push(`${label}: [${bad}] webgl ${g[bad]} vs cpu ${c[bad]}`);
    } catch (e) {
      report.failures.push(`${label}: threw ${(e as Error).stack ?? e}`);
    }
  };
  const a = randoms(12 * 20, 1);
  const b = randoms(20 * 9, 2);
  await close('elementwise on strided inputs', (d) => rt.tensor(a, { device: d, shape: [20, 12] }).t().exp().mul(rt.tensor(a, { device: d, shape: [12, 20] }).tanh()).add(1).log());
  await close('matmul', (d) => rt.tensor(a, { device: d, shape: [12, 20] }).matmul(rt.tensor(b, { device: d, shape: [20, 9] })));
  await close('reductions', (d) => rt.tensor(a, { device: d, shape: [12, 20] }).sum(1).add(rt.tensor(a, { device: d, shape: [12, 20] }).amax(1)));
  await close('NaN propagation (max, isnan, maximum)', (d) => {
    const t = rt.tensor([1, NaN, 3, -2], { device: d });
    return t.isnan().to('float32').add(rt.tensor([[1, NaN, 3, -2]], { device: d }).amax(1).isnan().to('float32')).add(t.maximum(0).isnan().to('float32'));
  });
  await close('softmax', (d) => rt.tensor(a, { device: d, shape: [12, 20] }).mul(50).softmax(1));
  await close('int32 and bool', (d) => rt.tensor([1, 2, 3, 16777215], { device: d, dtype: 'int32' }).mul(rt.tensor([1, 0, 1, 1], { device: d }).gt(0.5)));
  await close('gradients', (d) => {
    const x = rt.tensor(a, { device: d, shape: [12, 20], requiresGrad: true });
    const w = rt.tensor(b, { device: d, shape: [20, 9] });
    const [g] = autograd.grad(x.matmul(w).sigmoid().logSoftmax(1).sum(), [x]);
    return g!;
  });
  await close('sort values and indices, stable with ties and NaN, descending, along dim 0', (d) => {
    const t = rt.tensor(a.map((v, i) => (i % 17 === 0 ? NaN : Math.round(v * 4) / 4)), { device: d, shape: [20, 12] });
    const s = t.sort(0, true);
    return s.values.add(s.indices.to('float32').mul(1000));
  });
  await close('topk', (d) => rt.tensor(a, { device: d, shape: [12, 20] }).topk(3).values);
  await close('cumsum and cumprod (and their reverse scans in the gradient)', (d) => {
    const x = rt.tensor(a.map((v) => 1 + v / 10), { device: d, shape: [12, 20], requiresGrad: true });
    const [g] = autograd.grad(x.cumsum(1).add(x.t().cumprod(1).t()).mul(x).sum(), [x]);
    return g!;
  });
  await close('scatter (the last wins) and scatterAdd', (d) => {
    const idx = rt.tensor([[0, 2, 2], [1, 2, 0], [2, 2, 2]], { device: d, dtype: 'int32' });
    const src = rt.tensor(a.slice(0, 9), { device: d, shape: [3, 3] });
    return rt.zeros([3, 3], { device: d }).scatter(0, idx, src).add(rt.zeros([3, 3], { device: d }).scatterAdd(0, idx, src));
  });
  await close('addmm', (d) => rt.tensor(b.slice(0, 9), { device: d }).addmm(rt.tensor(a, { device: d, shape: [20, 12] }).t(), rt.tensor(b, { device: d, shape: [20, 9] }), { beta: 0.5, alpha: 2 }));
  await close('training steps', (d) => {
    const x = rt.tensor(a, { device: d, shape: [12, 20] });
    const w = rt.tensor(b, { device: d, shape: [20, 9], requiresGrad: true });
    for (let i = 0; i < 20; i++) {
      const l = x.matmul(w).tanh().square().mean();
      l.backward();
      rt.noGrad(() => w.sub_(w.grad!.mul(0.1)));
      w.grad = null;
    }
    return w.detach();
  });
  const info = backendInfo(rt);
  Object.assign(report, { ok: true, kernelClass: info.kernelClass, renderer: info.renderer, glVersion: info.glVersion });
  await rt.dispose();
  return report;
}

(globalThis as unknown as { __nablaWebglTests: () => Promise<PageReport> }).__nablaWebglTests = run;
