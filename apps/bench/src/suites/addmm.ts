/**
 * The linear layer's forward, bias added in the matmul's epilogue (`addmm`, one kernel) against
 * the same product followed by a broadcast add (two kernels, one more pass over the output), on
 * every device, as a ratio measured in the same run.
 */
import { settle, type Target } from '../devices.js';
import { fmt, printTable, time } from '../timing.js';

const SHAPES: [number, number, number][] = [
  [64, 784, 256],
  [256, 256, 256],
  [1024, 64, 1024],
];

export async function addmmSuite(targets: readonly Target[]): Promise<void> {
  const rows: string[][] = [];
  for (const [m, k, n] of SHAPES) {
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
      rows.push([`${m}×${k} · ${k}×${n}`, `Nabla ${label}`, fmt(fused.ms, 3), fmt(split.ms, 3), fmt(split.ms / fused.ms)]);
      for (const t of [x, w, b]) t.dispose();
    }
  }
  printTable('linear forward, float32: addmm (bias in the epilogue) vs matmul + add', ['shape', 'impl', 'addmm ms', 'matmul+add ms', 'speed-up'], rows);
}
