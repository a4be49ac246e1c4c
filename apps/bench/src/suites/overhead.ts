/**
 * Engine overhead: a chain of scalar ops (x·1.0001 + 0.001, repeated) builds the graph, then
 * backward walks it. Per-op microseconds on every device against PyTorch and TensorFlow.js in the
 * same run. This is the number the foundation issue sets a goal for (PyTorch: ~2.2 µs/op forward
 * with graph, ~4.9 µs/op backward on this machine; goal ≥ 5× less).
 */
import type { Tensor } from '@nabla/core';
import { settle, type Target } from '../devices.js';
import { runTorch, torchSamples } from '../peers/pytorch.js';
import { tfjsReady, tfOverhead } from '../peers/tfjs.js';
import { bench } from '../report/recorder.js';
import { time } from '../timing.js';

export async function overheadSuite(targets: readonly Target[]): Promise<void> {
  const N = bench.quick ? 250 : 2000;
  const ops = 2 * N;
  bench.table('overhead', {
    title: `Engine overhead: ${ops} scalar ops x·1.0001 + 0.001 (µs per op)`,
    description:
      "forward+graph: building the chain with autograd on; forward+backward: building it and running backward (per forward op); backward: forward+backward minus the median forward, given for synchronous devices only (a GPU backend may defer forward kernels that backward does not need, which makes the difference meaningless); noGrad: the chain under noGrad.",
  });
  for (const { rt, device, label } of targets) {
    const x = rt.tensor(1.5, { device, requiresGrad: true });
    const chain = (): Tensor => {
      let y = x;
      for (let i = 0; i < N; i++) y = y.mul(1.0001).add(0.001);
      return y;
    };
    // Device work is waited for, so the GPUs' times include their kernels, not just the launches.
    // Each pass runs inside tidy, so GPU devices free the chain's buffers at once rather than at GC.
    const pass = async (body: () => Tensor): Promise<void> => {
      const y = rt.tidy(body);
      await settle(rt, device, y);
      y.dispose();
    };
    const f = await time(() => pass(chain));
    const fb = await time(async () => {
      await pass(() => {
        chain().backward();
        const g = x.grad!;
        x.grad = null;
        return g;
      });
    });
    const noGrad = await time(() => pass(() => rt.noGrad(chain)));
    const rec = (workload: string, samples: number[]): void => {
      bench.record({ workload, impl: `Nabla ${label}`, device, unit: 'µs/op', better: 'lower', samples });
    };
    rec('forward+graph', f.samples.map((v) => (v * 1000) / ops));
    rec('forward+backward', fb.samples.map((v) => (v * 1000) / ops));
    if (device === 'cpu') rec('backward', fb.samples.map((v) => ((v - f.ms) * 1000) / ops));
    rec('forward, noGrad', noGrad.samples.map((v) => (v * 1000) / ops));
    x.dispose();
  }

  const torch = runTorch([{ kind: 'overhead', arg: N }]);
  const name = 'results' in torch ? `PyTorch ${torch.version}` : 'PyTorch';
  for (const [workload, field] of [['forward+graph', 'forward_us_per_op'], ['forward+backward', 'forward_backward_us_per_op'], ['backward', 'backward_us_per_op']] as const) {
    const s = torchSamples(torch, `overhead:${N}`, field);
    if (s) bench.record({ workload, impl: name, peer: true, unit: 'µs/op', better: 'lower', samples: s });
  }
  if ('missing' in torch) bench.note(torch.missing);
  if (await tfjsReady()) {
    const tf = await tfOverhead(N);
    bench.record({ workload: 'forward+graph', impl: 'TensorFlow.js cpu', peer: true, unit: 'µs/op', better: 'lower', samples: tf.forwardUs });
    bench.record({ workload: 'backward', impl: 'TensorFlow.js cpu', peer: true, unit: 'µs/op', better: 'lower', samples: tf.backwardUs });
    bench.record({ workload: 'forward+backward', impl: 'TensorFlow.js cpu', peer: true, unit: 'µs/op', better: 'lower', samples: tf.forwardBackwardUs });
  }
}
