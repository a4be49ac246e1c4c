/** Shared by the tests: runtimes, deterministic inputs, bit-exact comparisons. */
import { createRuntime, type DType, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { activations } from '@nabla/activations';

export function cpuRuntime(): Promise<Runtime> {
  return createRuntime({ plugins: [cpuBackend(), activations()] });
}

/** Values in [-0.5, 0.5) from a hash of the index (no RNG: the same on every run and device). */
export function hashed(rt: Runtime, shape: readonly number[], seed: number, opts: { dtype?: DType; requiresGrad?: boolean; device?: string } = {}): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 2654435761 + seed * 40503 + 12345) % 4294967296) / 4294967296 - 0.5;
  const dtype = opts.dtype ?? 'float64';
  let t = rt.tensor(dtype === 'float64' ? data : Float32Array.from(data), { shape: [...shape], dtype });
  if (opts.device && opts.device !== 'cpu') {
    const moved = t.to(opts.device);
    t.dispose();
    t = moved;
  }
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

export function values(t: Tensor): number[] {
  return Array.from(t.dataSync(), Number);
}

/** Exactly equal element by element (bit-identical for floats that are not NaN). */
export function expectSame(a: Tensor | null | undefined, b: Tensor | null | undefined): void {
  if (!a || !b) throw new Error(`missing tensor: ${String(a)} vs ${String(b)}`);
  const x = values(a);
  const y = values(b);
  if (x.length !== y.length) throw new Error(`length ${x.length} vs ${y.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Object.is(x[i], y[i])) throw new Error(`element ${i}: ${x[i]} vs ${y[i]}`);
  }
}
