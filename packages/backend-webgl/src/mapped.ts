/**
 * Fragment shaders cannot scatter: every kernel here computes one element of the output
 * *storage* per thread, and works out which element of the output *view* (if any) that is.
 *
 * The output view's dims are sorted by stride, largest first, so a storage position p decomposes
 * greedily: i0 = floor((p - offset) / s0), then the remainder by s1, ... — exact for any view
 * whose strides nest (each stride larger than the span of the dims below it), which covers every
 * view core makes (slices, transposes, selects, expands are never written). A thread whose p is
 * not in the view returns the storage's old value, so strided in-place writes work and a kernel
 * may read the very texture it replaces (the result goes to a new texture from the pool).
 *
 * Inputs are read at `offset + Σ i_d · stride_d` in the same sorted dim order. All index
 * arithmetic is float32, exact below 2^24 elements (the largest storage a texture holds anyway).
 */
import { collapseDims, type View } from '@nabla/core';
import type { GlStorage } from './storage.js';

export interface Mapped {
  /** Dims in kernel order (output strides descending, size-1 dims dropped, mergeable dims merged). */
  readonly shape: number[];
  readonly outStrides: number[];
  /** Per operand, its strides in kernel order. */
  readonly strides: number[][];
}

/**
 * Sorts and collapses the geometry of `out` and `operands` (same shape as out; stride 0 where
 * broadcast). With `keepDims`, dims are only sorted (size-1 dims kept, nothing merged) so that a
 * kernel can find a particular dim (gather, scatterAdd): `order[k]` is the original dim of kernel
 * dim k.
 */
export function mapGeometry(op: string, out: View, operands: readonly (readonly number[])[], keepDims = false): Mapped & { order: number[] } {
  const rank = out.shape.length;
  const cls = (out.storage as GlStorage).cls;
  // A size-1 dim's index is always 0: a stride larger than any position keeps it so.
  const os = out.shape.map((n, d) => (n === 1 ? cls + 1 : out.strides[d]!));
  const order = Array.from({ length: rank }, (_, d) => d).sort((a, b) => os[b]! - os[a]! || a - b);
  const shape = order.map((d) => out.shape[d]!);
  const outStrides = order.map((d) => os[d]!);
  const strides = operands.map((s) => order.map((d) => s[d]!));
  let g: Mapped;
  if (keepDims) {
    g = { shape, outStrides, strides };
  } else {
    const c = collapseDims(shape, [outStrides, ...strides]);
    g = { shape: c.shape, outStrides: c.strides[0]!, strides: c.strides.slice(1) };
    if (g.outStrides.length === 1 && g.outStrides[0] === 0) g.outStrides[0] = 1;
  }
  if (g.shape.length === 0) g = { shape: [1], outStrides: [1], strides: operands.map(() => [0]) };
  // The greedy decomposition needs nested strides.
  let span = 0;
  for (let d = g.shape.length - 1; d >= 0; d--) {
    const s = g.outStrides[d]!;
    const n = g.shape[d]!;
    if (n > 1 && s <= span) {
      throw new Error(
        `${op}: the webgl device cannot write into a view whose strides interleave ` +
          `(shape [${out.shape.join(', ')}], strides [${out.strides.join(', ')}]); write into a contiguous tensor and copy`,
      );
    }
    span += (n - 1) * s;
  }
  return { ...g, order };
}

/**
 * The JS (gpu.js subset) of a kernel over the output storage: decomposes `this.thread.x` into
 * `i0..i{rank-1}` and operand addresses `a0..a{n-1}`, then runs `body` (which returns the value).
 * Arguments: `o` (the output's current texture), `textures`, `extra`, then the geometry
 * (`oo`, `os<d>`, `on<d>`, per operand `ao<k>`, `as<k>_<d>`).
 */
export function mappedSource(rank: number, textures: readonly string[], nOperands: number, extra: readonly string[], body: readonly string[]): string {
  const geo = ['oo'];
  for (let d = 0; d < rank; d++) geo.push(`os${d}`);
  for (let d = 0; d < rank; d++) geo.push(`on${d}`);
  for (let k = 0; k < nOperands; k++) {
    geo.push(`ao${k}`);
    for (let d = 0; d < rank; d++) geo.push(`as${k}_${d}`);
  }
  const lines: string[] = [];
  lines.push(`function (o, ${[...textures, ...extra, ...geo].join(', ')}) {`);
  lines.push('  let p = this.thread.x;');
  lines.push('  let r = p - oo;');
  const bounds: string[] = ['i0 < 0'];
  for (let d = 0; d < rank; d++) {
    lines.push(`  let i${d} = Math.floor(r / os${d});`);
    lines.push(`  r = r - i${d} * os${d};`);
    bounds.push(`i${d} >= on${d}`);
  }
  lines.push(`  if (${bounds.join(' || ')} || r > 0) {`);
  lines.push('    return o[p];');
  lines.push('  }');
  for (let k = 0; k < nOperands; k++) {
    const terms = [`ao${k}`];
    for (let d = 0; d < rank; d++) terms.push(`i${d} * as${k}_${d}`);
    lines.push(`  let a${k} = ${terms.join(' + ')};`);
  }
  for (const l of body) lines.push(`  ${l}`);
  lines.push('}');
  return lines.join('\n');
}

/** The geometry arguments `mappedSource` expects, in order. */
export function geometryArgs(out: View, g: Mapped, offsets: readonly number[]): number[] {
  const args: number[] = [out.offset, ...g.outStrides, ...g.shape];
  g.strides.forEach((s, k) => args.push(offsets[k]!, ...s));
  return args;
}
