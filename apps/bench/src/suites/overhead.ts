/**
 * Engine overhead: a chain of scalar ops (x·1.0001 + 0.001, repeated) builds the graph, then
 * backward walks it. Per-op microseconds against PyTorch and TensorFlow.js in the same run.
 * This is the number the foundation issue sets a goal for (PyTorch: ~2.2 µs/op forward with
 * graph, ~4.9 µs/op backward on this machine; goal ≥ 5× less).
 */
import type { Runtime, Tensor } from '@nabla/core';
import { runTorch } from '../peers/pytorch.js';
import { tfjsReady, tfOverhead } from '../peers/tfjs.js';
import { fmt, printTable, time } from '../timing.js';

const N = 2000;

export async function overheadSuite(rt: Runtime): Promise<Record<string, number>> {
  const x = rt.tensor(1.5, { requiresGrad: true });
  const chain = (): Tensor => {
    let y = x;
    for (let i = 0; i < N; i++) y = y.mul(1.0001).add(0.001);
    return y;
  };
  const f = await time(chain);
  const fb = await time(() => chain().backward());
  const noGrad = await time(() => rt.noGrad(chain));
  const ops = 2 * N;
  const nabla = { fwd: (f.ms * 1000) / ops, bwd: ((fb.ms - f.ms) * 1000) / ops, noGrad: (noGrad.ms * 1000) / ops };

  const torch = runTorch([{ kind: 'overhead', arg: N }]);
  const tfOk = await tfjsReady();
  const tf = tfOk ? await tfOverhead(N) : null;
  const rows: string[][] = [['Nabla', fmt(nabla.fwd), fmt(nabla.bwd), fmt(nabla.noGrad), '1.00×', '1.00×']];
  const out: Record<string, number> = { nablaForwardUs: nabla.fwd, nablaBackwardUs: nabla.bwd };
  if ('results' in torch) {
    const t = torch.results[`overhead:${N}`]!;
    rows.push([`PyTorch ${torch.version}`, fmt(t.forward_us_per_op!), fmt(t.backward_us_per_op!), '', `${fmt(t.forward_us_per_op! / nabla.fwd)}×`, `${fmt(t.backward_us_per_op! / nabla.bwd)}×`]);
    out.torchForwardRatio = t.forward_us_per_op! / nabla.fwd;
    out.torchBackwardRatio = t.backward_us_per_op! / nabla.bwd;
  } else rows.push(['PyTorch', '—', '—', '', torch.missing, '']);
  if (tf) rows.push(['TensorFlow.js (cpu)', fmt(tf.forwardUs), fmt(tf.backwardUs), '', `${fmt(tf.forwardUs / nabla.fwd)}×`, `${fmt(tf.backwardUs / nabla.bwd)}×`]);
  printTable(
    `Engine overhead: ${ops} scalar ops (µs per op; ratio = peer time / Nabla time, above 1 means Nabla is faster)`,
    ['impl', 'forward+graph', 'backward', 'forward, noGrad', 'fwd ratio', 'bwd ratio'],
    rows,
  );
  return out;
}
