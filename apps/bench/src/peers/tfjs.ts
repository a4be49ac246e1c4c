/** TensorFlow.js (its pure-JS CPU backend) running the same workloads in-process. */
// The full package: its Node bundle registers the CPU backend and every gradient.
import * as tf from '@tensorflow/tfjs';
import { bench } from '../report/recorder.js';
import { time, type Timing } from '../timing.js';

/** Selects tfjs's pure-JS CPU backend (the wasm peer may have selected its own since). */
export function tfjsReady(): Promise<boolean> {
  return tf.setBackend('cpu').then(
    (ok) => {
      bench.peers['TensorFlow.js cpu'] = ok ? `${tf.version_core} (pure JavaScript CPU backend, 1 thread)` : 'missing: the cpu backend did not start';
      return ok;
    },
    () => false,
  );
}

export const tfjsVersion = tf.version_core;

/** µs per op of the forward (samples) and of the backward (forward+backward samples minus the forward's median). */
export async function tfOverhead(n: number): Promise<{ forwardUs: number[]; backwardUs: number[]; forwardBackwardUs: number[] }> {
  const x = tf.scalar(1.5);
  const chain = (v: tf.Tensor): tf.Tensor => {
    let y = v;
    for (let i = 0; i < n; i++) y = tf.add(tf.mul(y, 1.0001), 0.001);
    return y;
  };
  // Forward under tidy (tfjs records a tape only inside tf.grad). Timed tidies return nothing:
  // tf.tidy walks whatever its callback returns looking for tensors, and walking a returned
  // TypedArray element by element costs more than the op itself (~0.5 s per million elements).
  const f = await time(() => tf.tidy(() => void chain(x)));
  const g = tf.grad((v: tf.Tensor) => chain(v) as tf.Scalar);
  const fb = await time(() => tf.tidy(() => void g(x)));
  const ops = 2 * n;
  return { forwardUs: f.samples.map((v) => (v * 1000) / ops), backwardUs: fb.samples.map((v) => ((v - f.ms) * 1000) / ops), forwardBackwardUs: fb.samples.map((v) => (v * 1000) / ops) };
}

export async function tfMatmul(n: number): Promise<Timing> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  const t = await time(() => tf.tidy(() => void tf.matMul(a, b).dataSync()), { runs: 3, minMs: 200 });
  a.dispose();
  b.dispose();
  return t;
}

export async function tfChain(n: number): Promise<Timing> {
  const x = tf.randomNormal([n]);
  const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.tanh(tf.add(tf.mul(v, 2), 1)), v)) as tf.Scalar);
  const t = await time(() => tf.tidy(() => void g(x).dataSync()));
  x.dispose();
  return t;
}
