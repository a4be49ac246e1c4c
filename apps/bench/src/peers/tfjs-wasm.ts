/**
 * TensorFlow.js on its WebAssembly backend (XNNPACK, SIMD) running the CPU suite's workloads
 * in-process, as steps the suite times interleaved with Nabla's. tfjs has one global backend:
 * `tfWasmReady` selects 'wasm' (the suite calls it before its rounds), and the pure-JS peer
 * (`tfjs.ts`) selects 'cpu' again for itself.
 *
 * Timed callbacks of tf.tidy return nothing: tidy walks its callback's result looking for tensors,
 * and a returned TypedArray is walked element by element (~0.5 s per million elements).
 *
 * Nor do they read results back (`dataSync`): the wasm backend runs every kernel synchronously in
 * the call that dispatches it, so the work is done when the step returns, as Nabla's CPU kernels
 * and PyTorch's are, and neither of those columns copies its result out. A readback is a copy out
 * of the wasm memory into fresh pages that only tfjs would pay: it took the SiLU 1000² forward
 * from 2.06 to 4.25 ms and its forward+backward from 16.3 to 17.3 (medians, same process).
 */
import * as tf from '@tensorflow/tfjs';
import * as tfw from '@tensorflow/tfjs-backend-wasm';
import { bench } from '../report/recorder.js';

/**
 * A workload set up on tfjs: its steps (each one timed call; the suite interleaves them with
 * Nabla's), what the checks read, and `dispose` for the tensors it holds.
 */
export interface TfCase<S extends string> {
  steps: Record<S, () => void>;
  dispose: () => void;
}

let ready: Promise<boolean> | null = null;

export async function tfWasmReady(): Promise<boolean> {
  ready ??= tf.setBackend('wasm').then((ok) => ok, () => false);
  if (!(await ready)) return false;
  return tf.setBackend('wasm');
}

export function tfWasmInfo(): string {
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
  const threads = tfw.getThreadsCount();
  // Its multithreaded build is never loaded under Node (the flag is hard-wired off there, tfjs
  // issue #3830), so the threaded goals compare against its one thread, as the issue defines them.
  const why = threads === 1 && tf.env().getBool('IS_NODE') ? ' (tfjs-backend-wasm runs no threads under Node: WASM_HAS_MULTITHREAD_SUPPORT is off there, tfjs#3830)' : '';
  const info = `tfjs-backend-wasm ${tfw.version_wasm}, ${simd}, ${threads} thread(s)${why}`;
  bench.peers['TensorFlow.js wasm'] = info;
  return info;
}

export function tfwMatmul(n: number): TfCase<'ms'> {
  const a = tf.randomNormal([n, n]);
  const b = tf.randomNormal([n, n]);
  return { steps: { ms: () => tf.tidy(() => void tf.matMul(a, b)) }, dispose: () => [a, b].forEach((t) => t.dispose()) };
}

const silu = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(x));

/** SiLU composed from mul and sigmoid (tfjs has no fused op): forward, and forward+backward. */
export function tfwSilu(n: number): TfCase<'fwd' | 'fb'> {
  const x = tf.randomNormal([n, n]);
  const g = tf.grad(silu);
  return {
    steps: { fwd: () => tf.tidy(() => void silu(x)), fb: () => tf.tidy(() => void g(x)) },
    dispose: () => x.dispose(),
  };
}

/** 784-256-256-10 ReLU MLP, MSE loss, one SGD step (tf.train.sgd). */
export function tfwMlp(batch: number): TfCase<'ms'> {
  const sizes = [784, 256, 256, 10];
  const ws: tf.Variable[] = [];
  const bs: tf.Variable[] = [];
  for (let i = 0; i < 3; i++) {
    ws.push(tf.variable(tf.mul(tf.randomNormal([sizes[i]!, sizes[i + 1]!]), 0.05)));
    bs.push(tf.variable(tf.zeros([sizes[i + 1]!])));
  }
  const x = tf.randomNormal([batch, 784]);
  const target = tf.randomNormal([batch, 10]);
  const opt = tf.train.sgd(0.01);
  const loss = (): tf.Scalar => {
    let h: tf.Tensor = x;
    for (let i = 0; i < 3; i++) {
      h = tf.add(tf.matMul(h, ws[i]!), bs[i]!);
      if (i < 2) h = tf.relu(h);
    }
    return tf.mean(tf.square(tf.sub(h, target)));
  };
  return {
    steps: { ms: () => tf.tidy(() => void opt.minimize(loss)) },
    dispose: () => {
      for (const v of [...ws, ...bs, x, target]) v.dispose();
      opt.dispose();
    },
  };
}

/**
 * y = tanh(y·w + b) n times on scalars, w and b shared: the forward, and forward+backward (tfjs
 * records the tape inside the gradient call, so its backward alone cannot be timed: the suite
 * derives it as forward+backward minus the forward's median).
 */
export function tfwScalar(n: number): TfCase<'fwd' | 'fb'> {
  const x = tf.scalar(0.3);
  const w = tf.scalar(0.5);
  const b = tf.scalar(0.1);
  const chain = (wv: tf.Tensor, bv: tf.Tensor): tf.Scalar => {
    let y: tf.Tensor = x;
    for (let i = 0; i < n; i++) y = tf.tanh(tf.add(tf.mul(y, wv), bv));
    return y as tf.Scalar;
  };
  const g = tf.grads(chain as (...args: tf.Tensor[]) => tf.Tensor);
  return {
    steps: { fwd: () => tf.tidy(() => void chain(w, b)), fb: () => tf.tidy(() => void g([w, b])) },
    dispose: () => [x, w, b].forEach((t) => t.dispose()),
  };
}

/** silu'' by nesting tf.grad; `values(xs)` gives it on `xs` so the suite can check them. */
export function tfwSilu2(n: number): TfCase<'ms'> & { values: (xs: Float32Array) => Float32Array } {
  const x = tf.randomNormal([n]);
  const g2 = tf.grad(tf.grad(silu));
  return {
    steps: { ms: () => tf.tidy(() => void g2(x)) },
    values: (xs) => {
      const probe = tf.tidy(() => g2(tf.tensor1d(xs)));
      const values = probe.dataSync() as Float32Array;
      probe.dispose();
      return values;
    },
    dispose: () => x.dispose(),
  };
}

/**
 * Hessian-vector product (v = ones) of an MSE loss through a 256-256-10 tanh MLP by nested tf.grads,
 * from the given weights so the suite can compare values with Nabla's (`hv()`).
 */
export function tfwHvp(init: { w1: Float32Array; w2: Float32Array; x: Float32Array; t: Float32Array; batch: number }): TfCase<'ms'> & { hv: () => Float32Array[] } {
  const { batch } = init;
  const x = tf.tensor2d(init.x, [batch, 256]);
  const target = tf.tensor2d(init.t, [batch, 10]);
  const params = [tf.tensor2d(init.w1, [256, 256]), tf.zeros([256]), tf.tensor2d(init.w2, [256, 10]), tf.zeros([10])];
  const loss = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor): tf.Scalar =>
    tf.mean(tf.square(tf.sub(tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1), b1)), w2), b2), target)));
  const dot = (...ps: tf.Tensor[]): tf.Scalar => {
    const gs = tf.grads(loss as (...args: tf.Tensor[]) => tf.Tensor)(ps);
    return tf.addN(gs.map((g) => tf.sum(g))) as tf.Scalar;
  };
  const hvp = tf.grads(dot);
  return {
    steps: { ms: () => tf.tidy(() => void hvp(params)) },
    hv: () => {
      const hvT = tf.tidy(() => hvp(params));
      const hv = hvT.map((h) => h.dataSync() as Float32Array);
      hvT.forEach((h) => h.dispose());
      return hv;
    },
    dispose: () => {
      for (const p of [...params, x, target]) p.dispose();
    },
  };
}
