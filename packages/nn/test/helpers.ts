/**
 * Shared by the tests: runtimes, the hashed inputs that fixtures/make_fixtures.py computes
 * identically in Python, and fixture loading.
 */
import { readFileSync } from 'node:fs';
import { createRuntime, type DType, type Plugin, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { activations } from '@nabla/activations';

/** A fresh runtime with the CPU backend and the activations plugin. */
export function cpuRuntime(): Promise<Runtime> {
  return createRuntime({ plugins: [cpuBackend(), activations()] });
}

/**
 * `h(i, seed)` in [-0.5, 0.5): integer arithmetic below 2^53, a division by 2^32 and one
 * subtraction, so it is bit-identical to make_fixtures.py's `h`.
 */
export function h(i: number, seed: number): number {
  return ((i * 2654435761 + seed * 40503 + 12345) % 4294967296) / 4294967296 - 0.5;
}

/** Values `h(i, seed) * scale + shift` (Python's `hashed`), as a plain array. */
export function hashedValues(n: number, seed: number, scale = 1, shift = 0): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = h(i, seed) * scale + shift;
  return out;
}

export interface HashedOptions {
  scale?: number;
  shift?: number;
  dtype?: DType;
  requiresGrad?: boolean;
  device?: string;
}

/** A tensor of `shape` filled like make_fixtures.py's `hashed(shape, seed, scale, shift)`. */
export function hashed(rt: Runtime, shape: readonly number[], seed: number, opts: HashedOptions = {}): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = hashedValues(n, seed, opts.scale ?? 1, opts.shift ?? 0);
  const dtype = opts.dtype ?? 'float64';
  return rt.tensor(dtype === 'float64' ? data : Float32Array.from(data), { shape: [...shape], dtype, requiresGrad: opts.requiresGrad ?? false, device: opts.device ?? 'cpu' });
}

/** Parses `fixtures/<name>` (recorded by fixtures/make_fixtures.py). */
export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** The largest |a[i] - b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Flat float values of a tensor. */
export function values(t: Tensor): number[] {
  return Array.from(t.dataSync(), Number);
}

/** One recorded case: the output and the gradients of `sum(out * r)` w.r.t. each input. */
export interface RecordedCase {
  shape: number[];
  out: number[];
  grads: (number[] | null)[];
}

/**
 * Replays a case of layers.json: runs `fn` on float64 `inputs` that require grad, back-propagates
 * `sum(out * r)` with `r = hashed(out.shape, outSeed)`, and returns the largest difference of the
 * output and of the gradients from PyTorch's.
 */
export function replay(rt: Runtime, rec: RecordedCase, inputs: Tensor[], fn: (...xs: Tensor[]) => Tensor, outSeed: number): { out: number; grad: number } {
  const xs = inputs.map((t) => t.detach().requiresGrad_(true));
  const out = fn(...xs);
  if (out.shape.length !== rec.shape.length || out.shape.some((d, i) => d !== rec.shape[i])) {
    throw new Error(`shape [${out.shape.join(', ')}], PyTorch [${rec.shape.join(', ')}]`);
  }
  const r = hashed(rt, rec.shape, outSeed);
  out.mul(r).sum().backward();
  const outErr = maxAbsDiff(values(out), rec.out);
  let gradErr = 0;
  xs.forEach((x, i) => {
    const want = rec.grads[i];
    if (want === null || want === undefined) {
      if (x.grad !== null && values(x.grad).some((v) => v !== 0)) throw new Error(`input ${i} got a gradient, PyTorch none`);
      return;
    }
    if (x.grad === null) throw new Error(`input ${i} got no gradient`);
    gradErr = Math.max(gradErr, maxAbsDiff(values(x.grad), want));
  });
  return { out: outErr, grad: gradErr };
}

interface WebGpuModule {
  webgpuBackend(options?: object): Plugin;
  probeNodeAdapter(): Promise<{ ok: true; options: object; description: string } | { ok: false; reason: string }>;
}

/** A runtime with the CPU and WebGPU backends, or why WebGPU cannot start here (for a test's skip message). */
export async function gpuRuntime(): Promise<Runtime | string> {
  let mod: WebGpuModule;
  try {
    const name = '@nabla/backend-webgpu';
    mod = (await import(/* @vite-ignore */ name)) as WebGpuModule;
  } catch (e) {
    return `@nabla/backend-webgpu is not importable (${(e as Error).message.split('\n')[0]})`;
  }
  const p = await mod.probeNodeAdapter();
  if (!p.ok) return `no WebGPU adapter (${p.reason})`;
  return createRuntime({ plugins: [cpuBackend(), mod.webgpuBackend(p.options)] });
}
