/**
 * @nabla/hooks' costs, as ratios in the same run: a training step of the spiral MLP (2→64→64→3,
 * 300 points, Adam) plain, and with watch(model, { log: 'all', every: 100 }) — timed over blocks of
 * 100 steps so each block holds one recorded step (its device statistics and its one batched read);
 * and toSVG of a 2,000-node graph (layout and SVG text, no graphviz).
 */
import type { Runtime, Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import { toSVG, watch } from '@nabla/hooks';
import { settle } from '../devices.js';
import { bench } from '../report/recorder.js';
import { median } from '../stats.js';
import { time } from '../timing.js';

function spiral(rt: Runtime, device: string): { x: Tensor; y: Tensor } {
  const n = 100;
  const x = new Float32Array(n * 3 * 2);
  const y = new Int32Array(n * 3);
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < n; i++) {
      const r = i / (n - 1);
      const t = k * 4 + r * 4 + Math.sin(i * 12.9898 + k) * 0.2;
      x[2 * (k * n + i)] = r * Math.sin(t);
      x[2 * (k * n + i) + 1] = r * Math.cos(t);
      y[k * n + i] = k;
    }
  }
  return { x: rt.tensor(x, { shape: [3 * n, 2], device }), y: rt.tensor(y, { shape: [3 * n], device }) };
}

export async function hooksSuite(rt: Runtime, devices: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const STEPS = bench.quick ? 2 : 100;
  const REPS = bench.quick ? 2 : 7;
  bench.table('watch', {
    title: `watch overhead: spiral MLP training step, log 'all', every ${STEPS} (ms per step)`,
    description: `Medians of ${REPS} alternating ${STEPS}-step blocks, plain and watched, so a busy machine slows both alike; 'after remove()' checks the hooks are gone.`,
    against: ['plain'],
    wide: { ratios: [['watched', 'plain'], ['after remove()', 'plain']] },
  });
  for (const device of devices) {
    rt.manualSeed(0);
    const model = new nn.Sequential(new nn.Linear(2, 64, { runtime: rt }), new nn.ReLU(), new nn.Linear(64, 64, { runtime: rt }), new nn.ReLU(), new nn.Linear(64, 3, { runtime: rt }));
    if (device !== 'cpu') model.to(device);
    const { x, y } = spiral(rt, device);
    const opt = new nn.optim.Adam(model.parameters(), { lr: 0.01 });
    let last = null as Tensor | null;
    const block = (after: () => void) => async (): Promise<void> => {
      for (let s = 0; s < STEPS; s++) {
        const loss = rt.tidy(() => {
          opt.zeroGrad();
          const l = nn.crossEntropy(model.call(x), y);
          l.backward();
          opt.step();
          return l;
        });
        after();
        last?.dispose();
        last = loss;
      }
      await settle(rt, device, last ?? undefined);
    };
    // Plain and watched blocks alternate, so a busy machine slows both alike; medians of each.
    const plainMs: number[] = [];
    const watchedMs: number[] = [];
    await block(() => {})(); // warm-up
    for (let r = 0; r < REPS; r++) {
      let t0 = performance.now();
      await block(() => {})();
      plainMs.push(performance.now() - t0);
      const rec = watch(model, { log: 'all', every: STEPS }); // step 0 of the block is recorded
      t0 = performance.now();
      await block(() => rec.step())();
      await rec.flush();
      watchedMs.push(performance.now() - t0);
      rec.remove();
    }
    const plain = { ms: median(plainMs) };
    const watched = { ms: median(watchedMs) };
    const again = await time(block(() => {}), { warmup: 0, runs: bench.quick ? 1 : 3, minMs: 0 }); // after remove(): back to plain
    const ratio = watched.ms / plain.ms;
    out[`${device}WatchOverhead`] = ratio - 1;
    const perStep = (v: number[]): number[] => v.map((ms) => ms / STEPS);
    bench.record({ table: 'watch', workload: device, impl: 'plain', device, unit: 'ms/step', better: 'lower', samples: perStep(plainMs) });
    bench.record({ table: 'watch', workload: device, impl: 'watched', device, unit: 'ms/step', better: 'lower', samples: perStep(watchedMs) });
    bench.record({ table: 'watch', workload: device, impl: 'after remove()', device, unit: 'ms/step', better: 'lower', samples: perStep(again.samples) });
    bench.note(`watch overhead on ${device}: ${((ratio - 1) * 100).toFixed(1)}% (watched / plain medians)`);
    last?.dispose();
    last = null;
    x.dispose();
    y.dispose();
  }

  const leaves = Array.from({ length: 8 }, (_, i) => rt.tensor([0.5, -0.25, 1 + i], { requiresGrad: true }));
  let h = leaves[0]!;
  for (let i = 0; i < (bench.quick ? 300 : 2000); i++) h = i % 3 === 0 ? h.add(leaves[i % 8]!) : i % 3 === 1 ? h.tanh() : h.mul(1.0001);
  const root = h.sum();
  let nodes = 0;
  const svg = await time(() => {
    const s = toSVG(root);
    nodes = s.split('<g class="node').length - 1;
  });
  const backward = await time(() => root.backward(null, { retainGraph: true }));
  out.toSvgMs = svg.ms;
  bench.table('toSVG', { title: `toSVG of a ${nodes}-node autograd graph (pure TypeScript layout; a backward pass through the same graph for scale)`, against: [] });
  bench.record({ table: 'toSVG', workload: `${nodes}-node graph, cpu`, impl: 'toSVG', device: 'cpu', unit: 'ms', better: 'lower', samples: svg.samples });
  bench.record({ table: 'toSVG', workload: `${nodes}-node graph, cpu`, impl: 'backward (retainGraph)', device: 'cpu', unit: 'ms', better: 'lower', samples: backward.samples });
  return out;
}
