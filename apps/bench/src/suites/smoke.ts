/**
 * A seconds-long suite for the bench's own test (`--suite smoke`): one small elementwise
 * forward+backward on every device, beside a plain JavaScript loop computing the same values as a
 * peer, so the report has a chart, spread and a ratio column to check.
 */
import { settle, type Target } from '../devices.js';
import { bench } from '../report/recorder.js';
import { time } from '../timing.js';

const N = 4096;

export async function smokeSuite(targets: readonly Target[]): Promise<void> {
  bench.table('axpy', { title: `y = tanh(2x + 1), ${N} float32 elements`, description: 'Checks the bench itself; the numbers mean little.' });
  for (const { rt, device, label } of targets) {
    const x = rt.randn([N], { device, requiresGrad: true });
    const t = await time(async () => {
      const y = x.mul(2).add(1).tanh().sum();
      y.backward();
      await settle(rt, device, x.grad!);
      x.grad!.dispose();
      x.grad = null;
    });
    bench.record({ table: 'axpy', workload: 'forward+backward', impl: `Nabla ${label}`, device, unit: 'ms', better: 'lower', samples: t.samples });
    x.dispose();
  }
  const xs = Float32Array.from({ length: N }, (_, i) => Math.sin(i));
  const gx = new Float32Array(N);
  const js = await time(() => {
    for (let i = 0; i < N; i++) {
      const t = Math.tanh(2 * xs[i]! + 1);
      gx[i] = 2 * (1 - t * t);
    }
  });
  bench.record({ table: 'axpy', workload: 'forward+backward', impl: 'plain JS loop', peer: true, unit: 'ms', better: 'lower', samples: js.samples });
  bench.note(`${targets.length} device(s); the plain loop computes the same gradient by hand.`);
}
