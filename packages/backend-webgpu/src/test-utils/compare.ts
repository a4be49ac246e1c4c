/** Comparing WebGPU results with the CPU backend's, and seeded data for the tests. */
import type { Runtime, Tensor } from '@nabla/core';
import { expect } from 'vitest';

export interface Tolerance {
  readonly rtol?: number;
  readonly atol?: number;
}

/** Elementwise |got - want| <= atol + rtol·|want|; NaN matches NaN and infinities match exactly. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tolerance = {}, label = ''): void {
  const rtol = tol.rtol ?? 1e-6;
  const atol = tol.atol ?? 1e-6;
  expect(got.length, `${label} length`).toBe(want.length);
  const bad: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = Number(got[i]);
    const w = Number(want[i]);
    let ok: boolean;
    if (Number.isNaN(w) || Number.isNaN(g)) ok = Number.isNaN(w) && Number.isNaN(g);
    else if (!Number.isFinite(w) || !Number.isFinite(g)) ok = g === w;
    else ok = Math.abs(g - w) <= atol + rtol * Math.abs(w);
    if (!ok && bad.length < 8) bad.push(`[${i}] got ${g}, want ${w}`);
  }
  expect(bad, `${label}: mismatches (rtol ${rtol}, atol ${atol})`).toEqual([]);
}

/** Deterministic uniform numbers in [lo, hi). */
export function randoms(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0 || 1;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = lo + ((s >>> 0) / 4294967296) * (hi - lo);
  }
  return out;
}

/** The same values as a tensor on each device. */
export function pair(rt: Runtime, values: ArrayLike<number>, shape: readonly number[], dtype: 'float32' | 'int32' | 'bool' = 'float32'): [Tensor, Tensor] {
  const data = dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values);
  return [rt.tensor(data, { device: 'cpu', shape }), rt.tensor(data, { device: 'webgpu', shape })];
}

/** Runs `f` on the cpu and the webgpu tensor of each pair and compares the results. */
export async function sameOnBoth(
  pairs: readonly (readonly [Tensor, Tensor])[],
  f: (...xs: Tensor[]) => Tensor,
  tol: Tolerance = {},
  label = '',
): Promise<void> {
  const c = f(...pairs.map((p) => p[0]));
  const g = f(...pairs.map((p) => p[1]));
  expect(g.device).toBe('webgpu');
  expect(g.shape, `${label} shape`).toEqual(c.shape);
  expect(g.dtype, `${label} dtype`).toBe(c.dtype);
  expectClose(await g.data(), c.dataSync(), tol, label);
}
