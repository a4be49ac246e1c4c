/**
 * float16 in WGSL's native `f16` (adapters with `shader-f16`).
 *
 * Storage does not change: an `array<f16>` in a storage buffer has the byte layout of the packed
 * path's two halves per u32 word (element p in bytes 2p, 2p + 1), so a tensor's buffer is bound
 * as `array<f16>` by these kernels and as `array<u32>` by the packed ones, and both see the same
 * values. What changes is the elementwise kernels: they read and write f16 directly, with no
 * widen/narrow passes and no f32 stand-in buffers.
 *
 * Arithmetic follows PyTorch's: each op rounds its result to float16 once.
 * - An op that is one correctly rounded IEEE operation on float16 tensors (add, sub, mul; neg,
 *   abs, square; `where` between two of them) runs in f16 arithmetic: WGSL's f16 `+ - *` are
 *   correctly rounded, so one f16 operation is the f32 computation rounded once, bit for bit.
 * - Every other op (a formula such as sigmoid's backward, a transcendental function, division,
 *   a JS-number parameter that float16 may not hold exactly) reads its f16 inputs into f32, exactly,
 *   computes in f32 as PyTorch's CUDA kernels do (`opmath_t`), and rounds once on the store.
 * Matmul and the reductions read f16 and accumulate in f32 (native-f16-kernels.ts); softmax and
 * the other structured kernels compute in f32 through the half bridge (half-storage.ts).
 */
import type { DType, ElementwiseSpec, Expr } from '@nabla/core';

/** The WGSL directive every native-f16 shader starts with. */
export const ENABLE_F16 = 'enable f16;';

/** A root op computed in f16: its WGSL expression over the raw f16 loads `h<i>` / bool loads `c<i>`. */
export interface F16Root {
  readonly code: string;
}

const BIN: Partial<Record<string, (a: string, b: string) => string>> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
};
const UN: Partial<Record<string, (a: string) => string>> = {
  neg: (a) => `(-${a})`,
  abs: (a) => `abs(${a})`,
  square: (a) => `(${a} * ${a})`,
};

/** A number float16 holds exactly, as a WGSL f16 literal; null otherwise. */
export function exactF16Literal(v: number): string | null {
  if (!Number.isFinite(v) || Object.is(v, -0)) return null;
  const a = Math.abs(v);
  if (a > 65504) return null;
  // float16 has 11 significant bits and a smallest step of 2^-24.
  if (a !== 0 && a < 2 ** -14) {
    if (!Number.isInteger(a * 2 ** 24)) return null;
  } else if (a !== 0) {
    const e = Math.floor(Math.log2(a));
    if (!Number.isInteger(a * 2 ** (10 - e))) return null;
  }
  let s = String(v);
  if (!/[.e]/.test(s)) s += '.0';
  return `${s}h`;
}

/**
 * The f16 expression of `spec` when it is one correctly rounded operation on float16 tensors (and
 * constants float16 holds exactly), writing a float16 output; null when it must compute in f32.
 */
export function f16Root(spec: ElementwiseSpec): F16Root | null {
  if (spec.outDtype !== 'float16' || spec.computeDtype !== 'float16') return null;
  const leaf = (e: Expr): string | null => {
    if (e.op === 'input') return spec.inputDtypes[e.index] === 'float16' ? `h${e.index}` : null;
    if (e.op === 'const') return exactF16Literal(e.value);
    return null;
  };
  const e = spec.expr;
  if (e.op === 'where') {
    const c = e.cond.op === 'input' && spec.inputDtypes[e.cond.index] === 'bool' ? `(c${e.cond.index} != 0u)` : null;
    const a = leaf(e.a);
    const b = leaf(e.b);
    return c && a && b ? { code: `select(${b}, ${a}, ${c})` } : null;
  }
  if ('b' in e) {
    const f = BIN[e.op];
    const a = leaf(e.a);
    const b = leaf(e.b);
    if (!f || !a || !b || (e.a.op === 'const' && e.b.op === 'const')) return null;
    return { code: f(a, b) };
  }
  if (e.op === 'input' || e.op === 'param' || e.op === 'const') return null;
  const f = UN[e.op];
  const a = leaf((e as { a: Expr }).a);
  return f && a && (e as { a: Expr }).a.op === 'input' ? { code: f(a) } : null;
}

/** The WGSL element type of a storage binding of `dtype` in a native-f16 shader. */
export function nativeStorageType(dtype: DType): 'f32' | 'i32' | 'u32' | 'f16' {
  if (dtype === 'float16') return 'f16';
  if (dtype === 'float32') return 'f32';
  if (dtype === 'int32') return 'i32';
  if (dtype === 'bool') return 'u32';
  throw new Error(`webgpu: dtype ${dtype} has no native WGSL type`);
}

/** Whether a spec can compile natively: float16 somewhere, bfloat16 nowhere. */
export function nativeF16Spec(spec: ElementwiseSpec): boolean {
  const ds = [spec.outDtype, spec.computeDtype, ...spec.inputDtypes];
  return ds.includes('float16') && !ds.includes('bfloat16');
}
