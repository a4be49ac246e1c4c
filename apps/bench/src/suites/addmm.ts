/**
 * The linear layer's forward, bias added in the matmul's epilogue (`addmm`, one kernel) against
 * the same product followed by a broadcast add (two kernels, one more pass over the output), on
 * every device, as a ratio measured in the same run.
 */
import { settle, type Target } from '../devices.js';
import { bench } from '../report/recorder.js';
import { time } from '../timing.js';

const SHAPES: [number, number, number][] = [
  [64, 784, 256],
  [256, 256, 256],
  [1024, 64, 1024],
];

export async function addmmSuite(targets: readonly Target[]): Promise<void> {
  bench.table('addmm', { title: 'linear forward, float32: addmm (bias in the epilogue) vs matmul + add (ms)', against: ['matmul + add'], wide: { ratios: [['addmm', 'matmul + add']] } });
  for (const [m, k, n] of bench.quick ? SHAPES.slice(0, 1) : SHAPES) {
    for (const { rt, device, label } of targets) {
      const x = rt.randn([m, k], { device });
      const w = rt.randn([n, k], { device });
      const b = rt.randn([n], { device });
      const fused = await time(async () => {
        const y = b.addmm(x, w.t());
        await settle(rt, device, y);
        y.dispose();
      }, { runs: 5, minMs: 200 });
      const split = await time(async () => {
        const p = x.matmul(w.t());
        const y = p.add(b);
        await settle(rt, device, y);
        p.dispose();
        y.dispose();
      }, { runs: 5, minMs: 200 });
      const workload = `${m}×${k} · ${k}×${n} on ${label}`;
      bench.record({ workload, impl: 'addmm', device, unit: 'ms', better: 'lower', samples: fused.samples });
      bench.record({ workload, impl: 'matmul + add', device, unit: 'ms', better: 'lower', samples: split.samples });
      for (const t of [x, w, b]) t.dispose();
    }
  }
}
