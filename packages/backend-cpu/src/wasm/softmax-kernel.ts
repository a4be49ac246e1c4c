/**
 * WebAssembly SIMD passes of a float32 softmax / logSoftmax row (`softmax.ts` drives them). The
 * row sits in the shared memory padded with -Inf to whole vectors, so no pass has a scalar tail:
 * a -Inf lane changes no maximum and adds e^-Inf = 0 to the sum.
 *
 * - `sm_max(p, n) -> f32`: the row maximum; NaN anywhere gives NaN (as `Math.max`).
 * - `sm_exp_sum(p, q, n, m) -> f64`: e = e^{x-m} (vmath's f32x4 exp), stored at `q`, summed in
 *   float64 lanes (as the JavaScript kernel sums).
 * - `sm_div(q, n, s)`: q[i] = q[i] / s (softmax).
 * - `sm_log(p, n, m, l)`: p[i] = (p[i] - m) - l (logSoftmax, with l = log Σ), as PyTorch computes
 *   it in float32.
 * `n` counts elements and is a multiple of 4; pointers are 16-byte aligned.
 */
import { ModuleBuilder, ValType, type Code } from './emitter.js';
import { expF32, V } from './vmath.js';

export type SoftmaxExports = {
  sm_max(p: number, n: number): number;
  sm_exp_sum(p: number, q: number, n: number, m: number): number;
  sm_div(q: number, n: number, s: number): void;
  sm_log(p: number, n: number, m: number, l: number): void;
};

/** `body(offset)` for every vector: `i` walks byte offsets 0, 16, ... < 4n. */
function forVectors(c: Code, n: number, body: (i: number) => void): void {
  const i = c.local(ValType.i32);
  const end = c.local(ValType.i32);
  c.get(n).i32c(4).op('i32.mul').set(end);
  c.i32c(0).set(i);
  c.block().loop();
  c.get(i).get(end).op('i32.ge_u').brIf(1);
  body(i);
  c.get(i).i32c(16).op('i32.add').set(i);
  c.br(0).end().end();
}

export function emitSoftmax(memory: ConstructorParameters<typeof ModuleBuilder>[0]): Uint8Array {
  const mod = new ModuleBuilder(memory);
  const { i32, f32, f64, v128 } = ValType;

  {
    const c = mod.func('sm_max', [i32, i32], [f32]);
    const a = c.local(v128);
    c.f32x4c(-Infinity).set(a);
    forVectors(c, 1, (i) => {
      c.get(a).get(0).get(i).op('i32.add').vmem('v128.load', 4).simd('f32x4.max').set(a);
    });
    const s = c.local(f32);
    c.get(a).lane('f32x4.extract_lane', 0).get(a).lane('f32x4.extract_lane', 1).op('f32.max').set(s);
    c.get(s).get(a).lane('f32x4.extract_lane', 2).op('f32.max').set(s);
    c.get(s).get(a).lane('f32x4.extract_lane', 3).op('f32.max');
  }
  {
    // (p, q, n, m)
    const c = mod.func('sm_exp_sum', [i32, i32, i32, f32], [f64]);
    const v = new V(c);
    const mv = v.val(() => c.get(3).simd('f32x4.splat'));
    const a0 = c.local(v128);
    const a1 = c.local(v128);
    c.f64x2c(0).set(a0);
    c.f64x2c(0).set(a1);
    /** e^{x-m} of the vector at byte offset i + 16k (its statements, to interleave). */
    const expOf = (i: number, k: number) =>
      v.record(() => {
        const x = v.val(() => c.get(0).get(i).op('i32.add').vmem('v128.load', 4, 16 * k));
        // x - m rounds in float32, and e^d magnifies that rounding by |d| (16 ulps at d = -16): keep
        // the rounding error (TwoSum; 0 where it is NaN, from infinities) and apply e^{d+err} ≈ e^d·(1+err).
        const d = v.op('f32x4.sub', x, mv);
        const xr = v.op('f32x4.add', d, mv);
        const mr = v.op('f32x4.sub', xr, d);
        const err0 = v.val(() => c.get(x).get(xr).simd('f32x4.sub').get(mr).get(mv).simd('f32x4.sub').simd('f32x4.add'));
        const err = v.val(() => c.get(err0).get(err0).get(err0).simd('f32x4.eq').simd('v128.and'));
        const e0 = expF32(v, d);
        return v.val(() => c.get(e0).get(e0).get(err).simd('f32x4.mul').simd('f32x4.add'));
      });
    /** Stores e at q + i + 16k and adds it to the sums, low lanes to a0 and high to a1, in order. */
    const storeAndSum = (i: number, k: number, e: number): void => {
      const at = c.local(i32);
      c.get(1).get(i).op('i32.add').tee(at).get(e).vmem('v128.store', 4, 16 * k);
      c.get(a0).get(at).vmem('v128.load64_zero', 3, 16 * k).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(a0);
      c.get(a1).get(at).vmem('v128.load64_zero', 3, 16 * k + 8).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(a1);
    };
    // Two vectors per iteration with their exps interleaved (see `UNROLL` in elementwise-kernel.ts),
    // summed in the same order as one at a time; then the last vector, if the count is odd.
    const i = c.local(i32);
    const end = c.local(i32);
    c.get(2).i32c(4).op('i32.mul').set(end);
    c.i32c(0).set(i);
    c.block().loop();
    c.get(i).i32c(16).op('i32.add').get(end).op('i32.ge_u').brIf(1);
    const pa = expOf(i, 0);
    const pb = expOf(i, 1);
    for (let k = 0; k < Math.max(pa.stmts.length, pb.stmts.length); k++) {
      if (k < pa.stmts.length) c.bytes(pa.stmts[k]!);
      if (k < pb.stmts.length) c.bytes(pb.stmts[k]!);
    }
    storeAndSum(i, 0, pa.result);
    storeAndSum(i, 1, pb.result);
    c.get(i).i32c(32).op('i32.add').set(i);
    c.br(0).end().end();
    c.block();
    c.get(i).get(end).op('i32.ge_u').brIf(0);
    const last = expOf(i, 0);
    for (const st of last.stmts) c.bytes(st);
    storeAndSum(i, 0, last.result);
    c.end();
    c.get(a0).get(a1).simd('f64x2.add').set(a0);
    c.get(a0).lane('f64x2.extract_lane', 0).get(a0).lane('f64x2.extract_lane', 1).op('f64.add');
  }
  {
    // (q, n, s)
    const c = mod.func('sm_div', [i32, i32, f32]);
    const sv = c.local(v128);
    c.get(2).simd('f32x4.splat').set(sv);
    forVectors(c, 1, (i) => {
      const at = c.local(i32);
      c.get(0).get(i).op('i32.add').tee(at);
      c.get(at).vmem('v128.load', 4).get(sv).simd('f32x4.div').vmem('v128.store', 4);
    });
  }
  {
    // (p, n, m, l)
    const c = mod.func('sm_log', [i32, i32, f32, f32]);
    const mv = c.local(v128);
    const lv = c.local(v128);
    c.get(2).simd('f32x4.splat').set(mv);
    c.get(3).simd('f32x4.splat').set(lv);
    forVectors(c, 1, (i) => {
      const at = c.local(i32);
      c.get(0).get(i).op('i32.add').tee(at);
      c.get(at).vmem('v128.load', 4).get(mv).simd('f32x4.sub').get(lv).simd('f32x4.sub').vmem('v128.store', 4);
    });
  }
  return mod.encode();
}
