/**
 * SIMD float32 transcendentals for generated kernels: exp, log, tanh, sigmoid on f32x4, each
 * within a few ulp of the correctly rounded result over the whole float32 range, with IEEE
 * behaviour at the edges (NaN propagates; exp(±Inf) = Inf/0; log(0) = -Inf, log(x<0) = NaN;
 * denormal inputs and results handled). log's and tanh's polynomials are Cephes' single-precision
 * ones (logf, tanhf), exp's a minimax fit one degree lower; range reduction follows Cephes.
 * Tested against Math.* in `vmath.test.ts`.
 *
 * One vector at a time, a loop of these is bound by the latency of its longest chain of dependent
 * instructions (the out-of-order window holds only a few vectors' worth), not by the instruction
 * count. So polynomials are evaluated by Estrin's scheme, nothing waits on a select that could be
 * computed early, and the kernels interleave several vectors' statements (`V.record`). With four
 * vectors in flight the instruction count matters again, V8's spills included (a third of the
 * loop's instructions in tanh): every constant is a register held, or a reload.
 *
 * Each helper reads its argument from a local and leaves its result in a new local; `V` owns the
 * function's locals.
 */
import { ValType, type Code, type SimdOp } from './emitter.js';

const LOG2E = 1.44269504088896341;
const C1 = 0.693359375;
const C2 = -2.12194440e-4;
const SQRTHF = 0.707106781186547524;
const SIGN = 0x80000000 | 0;

/** Locals-as-values over a `Code`: every helper returns the local holding its result. */
export class V {
  constructor(readonly f: Code) {}

  tmp(): number {
    return this.f.local(ValType.v128);
  }
  /** While `record` runs: the statements emitted so far, in order. */
  private recording: Uint8Array[] | null = null;

  /** Emits `emit()` (leaving one v128 on the stack) into a new local. */
  val(emit: () => void): number {
    const t = this.tmp();
    const rec = this.recording;
    if (rec === null) {
      emit();
      this.f.set(t);
      return t;
    }
    // A statement of its own. A `val` nested in `emit` records itself first, as it runs first.
    rec.push(
      this.f.capture(() => {
        emit();
        this.f.set(t);
      }),
    );
    return t;
  }

  /**
   * Runs `emit` (which computes values with `val`) without emitting it, returning its statements:
   * each sets one local from locals set before it, so two recordings of independent work can be
   * interleaved statement by statement.
   */
  record<T>(emit: () => T): { result: T; stmts: Uint8Array[] } {
    const outer = this.recording;
    const stmts: Uint8Array[] = [];
    this.recording = stmts;
    try {
      return { result: emit(), stmts };
    } finally {
      this.recording = outer;
    }
  }
  op(name: SimdOp, ...args: number[]): number {
    return this.val(() => {
      for (const a of args) this.f.get(a);
      this.f.simd(name);
    });
  }
  /** A local holding a hoisted f32x4 constant. */
  f32(c: number): number {
    return this.val(() => this.f.kf(c));
  }
  /** mask ? a : b (mask lanes all-ones or all-zeros). */
  select(mask: number, a: number, b: number): number {
    return this.val(() => this.f.get(a).get(b).get(mask).simd('v128.bitselect'));
  }
  /** Horner: c[0]·x^(n-1) + ... + c[n-1]. */
  poly(x: number, coeffs: readonly number[]): number {
    return this.val(() => {
      this.f.kf(coeffs[0]!);
      for (let i = 1; i < coeffs.length; i++) this.f.get(x).simd('f32x4.mul').kf(coeffs[i]!).simd('f32x4.add');
    });
  }
}

/**
 * 1.5·2^23: adding it rounds a float in (-2^22, 2^22) to an integer, ties to even, in the low
 * mantissa bits. `expReduce` adds `ROUNDER + bias`, so those bits hold n + bias and a shift by 23
 * puts n + bias straight into an exponent field, with no integer addition for the bias.
 */
const ROUNDER = 12582912;
/**
 * e^r ≈ 1 + r + r²·(c2 + c3·r + c4·r² + c5·r³ + c6·r⁴) on |r| ≤ ln2/2: a minimax fit (relative
 * error 3e-9, 0.05 ulp; `scripts/fit-expf.py`), one degree below Cephes' expf, whose
 * extra term bought nothing at float32 precision. Degree 5 would be 1.8 ulp: over the budget.
 */
const EXP_POLY = [0.4999999403953552, 0.1666652113199234, 0.04166838899254799, 0.008368715643882751, 0.0013814577832818031] as const;

/** Which clamps `expF32` can skip: a caller whose argument is known ≤ 0 (or ≥ 0) drops one. */
export interface ExpRange {
  readonly nonPositive?: boolean;
  readonly nonNegative?: boolean;
}

/**
 * The shared core of exp, sigmoid and tanh: for `xc` already clamped to (-2^22, 2^22)·ln 2,
 * `xc = n·ln2 + r` with |r| ≤ ln2/2, and `q ≈ e^r - 1` (computed without adding the 1, so it keeps
 * full relative precision for small r). `t`'s low 9 mantissa bits hold n + `bias` (mod 512): a
 * bias that keeps n + bias in [0, 512) makes `t << 23` that number's bits shifted into place.
 * `shortChain` trades one more operation for a shorter dependent chain. `negate` reduces -xc
 * instead (q ≈ e^-xc - 1) at no cost: the signs go into the constants and the operations.
 */
function expReduce(v: V, xc: number, bias: number, shortChain = false, negate = false): { t: number; q: number } {
  const { f } = v;
  // n = round(x·log2 e) by the add-a-rounder trick: the same ties-to-even rounding as `nearest`
  // (of n + bias; a tie goes either way, and |r| ≤ ln2/2 still), and the integer comes from the
  // bits for free instead of through a saturating conversion. The sum stays in [2^23, 2^24), where
  // the float spacing is 1, so n = t - (ROUNDER + bias) is exact.
  const t = v.val(() => f.get(xc).kf(negate ? -LOG2E : LOG2E).simd('f32x4.mul').kf(ROUNDER + bias).simd('f32x4.add'));
  const n = v.val(() => f.get(t).kf(ROUNDER + bias).simd('f32x4.sub'));
  // Cody-Waite: n·C1 is exact (C1 has 9 significant bits, |n| ≤ 150), so is x - n·C1. Negated,
  // this is -r = xc + n·ln2, and the polynomial's odd terms change sign.
  const addSub = negate ? 'f32x4.add' : 'f32x4.sub';
  const r = v.val(() => {
    f.get(xc).get(n).kf(C1).simd('f32x4.mul').simd(addSub);
    f.get(n).kf(C2).simd('f32x4.mul').simd(addSub);
  });
  // The polynomial by Estrin's scheme rather than Horner's: the terms evaluate side by side, so
  // the chain of dependent operations is about half as long.
  const [c2, c3, c4, c5, c6] = EXP_POLY;
  const r2 = v.op('f32x4.mul', r, r);
  let q: number;
  if (shortChain) {
    // (r + c2·r²) + r³·((c3 + c4·r) + r²·(c5 + c6·r)): 5 operations deep after r, one more than
    // the other form in all. Sigmoid's loop (its chain ends in a division) runs ~5% faster so;
    // tanh's (more constants live) slower. Of -r: (c2·r² - r) + r³·((c4·r - c3) + r²·(c6·r - c5)).
    const sg = negate ? -1 : 1;
    const r3 = v.op('f32x4.mul', r2, r);
    const a = v.val(() => f.get(r2).kf(c2).simd('f32x4.mul').get(r).simd(negate ? 'f32x4.sub' : 'f32x4.add'));
    const b = v.val(() => f.get(r).kf(c4).simd('f32x4.mul').kf(sg * c3).simd('f32x4.add'));
    const c = v.val(() => f.get(r).kf(c6).simd('f32x4.mul').kf(sg * c5).simd('f32x4.add'));
    q = v.val(() => {
      f.get(r2).get(c).simd('f32x4.mul').get(b).simd('f32x4.add');
      f.get(r3).simd('f32x4.mul').get(a).simd('f32x4.add');
    });
  } else {
    if (negate) throw new Error('expReduce: negate needs shortChain');
    // r + r²·((c2 + c3·r) + r²·((c4 + c5·r) + c6·r²)): 6 deep, 11 operations.
    const a = v.val(() => f.get(r).kf(c3).simd('f32x4.mul').kf(c2).simd('f32x4.add'));
    const b = v.val(() => {
      f.get(r).kf(c5).simd('f32x4.mul').kf(c4).simd('f32x4.add');
      f.get(r2).kf(c6).simd('f32x4.mul').simd('f32x4.add');
    });
    q = v.val(() => {
      f.get(r2).get(b).simd('f32x4.mul').get(a).simd('f32x4.add');
      f.get(r2).simd('f32x4.mul').get(r).simd('f32x4.add');
    });
  }
  return { t, q };
}

/** e^x. */
export function expF32(v: V, x: number, range: ExpRange = {}): number {
  const { f } = v;
  // Clamp so the exponent stays in range. pmin/pmax (one instruction each, where min/max cost
  // several for their NaN rules) return the first operand when a comparison fails, so NaN passes.
  const xc = v.val(() => {
    f.get(x);
    if (range.nonPositive !== true) f.kf(88.8).simd('f32x4.pmin');
    if (range.nonNegative !== true) f.kf(-104).simd('f32x4.pmax');
  });
  // n in [-150, 128]; with the bias 254, t's low bits hold n' = n + 254 in [104, 382].
  const { t, q } = expReduce(v, xc, 254);
  // 1 + (r + r²·p): the two small terms first, so only the last addition rounds at the scale of 1.
  const y = v.val(() => f.get(q).kf(1).simd('f32x4.add'));
  // Scale by 2^n in two steps, 2^floor(n/2) then 2^ceil(n/2), so denormal and overflowing results
  // round once at the end rather than going through an out-of-range exponent. (t << 22) puts
  // n' >> 1 = floor(n/2) + 127 in the exponent field (the mask clears n's low bit and the
  // rounder's bits); (t << 23) is n' << 23, and less the first exponent leaves ceil(n/2) + 127.
  const s1 = v.val(() => f.get(t).i32c(22).simd('i32x4.shl').ki(0x7f800000).simd('v128.and'));
  return v.val(() => {
    f.get(y).get(s1).simd('f32x4.mul');
    f.get(t).i32c(23).simd('i32x4.shl').get(s1).simd('i32x4.sub').simd('f32x4.mul');
  });
}

/** Natural logarithm. */
export function logF32(v: V, x: number): number {
  const { f } = v;
  // Denormals: scale into the normal range first.
  const tiny = v.val(() => f.get(x).kf(1.17549435e-38).simd('f32x4.lt'));
  const xs = v.select(tiny, v.val(() => f.get(x).kf(8388608).simd('f32x4.mul')), x);
  const eAdj = v.val(() => f.get(tiny).ki(-23).simd('v128.and'));
  // x = m · 2^e with m in [0.5, 1).
  let e = v.val(() => {
    f.get(xs).i32c(23).simd('i32x4.shr_u').ki(126).simd('i32x4.sub');
    f.get(eAdj).simd('i32x4.add');
  });
  const m0 = v.val(() => f.get(xs).ki(0x007fffff).simd('v128.and').ki(0x3f000000).simd('v128.or'));
  // m < √½: use 2m - 1 and e - 1, so the polynomial argument stays in [√½ - 1, √2 - 1].
  const lo = v.val(() => f.get(m0).kf(SQRTHF).simd('f32x4.lt'));
  e = v.op('i32x4.add', e, lo);
  const m = v.val(() => f.get(m0).get(m0).get(lo).simd('v128.and').simd('f32x4.add').kf(1).simd('f32x4.sub'));
  const ef = v.op('f32x4.convert_i32x4_s', e);
  const z = v.op('f32x4.mul', m, m);
  const p = v.poly(m, [7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1]);
  const y = v.val(() => {
    f.get(p).get(m).simd('f32x4.mul').get(z).simd('f32x4.mul');
    f.get(ef).kf(C2).simd('f32x4.mul').simd('f32x4.add');
    f.get(z).kf(-0.5).simd('f32x4.mul').simd('f32x4.add');
    f.get(m).simd('f32x4.add');
    f.get(ef).kf(C1).simd('f32x4.mul').simd('f32x4.add');
  });
  // Edges: log(+Inf) = +Inf and log(NaN) = NaN (the input itself), log(0) = -Inf, log(x<0) = NaN.
  const passthrough = v.val(() => {
    f.get(x).kf(Infinity).simd('f32x4.eq');
    f.get(x).get(x).simd('f32x4.ne');
    f.simd('v128.or');
  });
  const r1 = v.select(passthrough, x, y);
  const r2 = v.select(v.val(() => f.get(x).kf(0).simd('f32x4.eq')), v.f32(-Infinity), r1);
  return v.select(v.val(() => f.get(x).kf(0).simd('f32x4.lt')), v.f32(NaN), r2);
}

/**
 * tanh: for |x| ≥ 0.625, 1 - 2/(m + 2) with m = e^{2|x|} - 1; below, Cephes' odd polynomial (the
 * quotient alone, m/(m + 2), would be 3 ulp off there). The sign is restored last.
 */
export function tanhF32(v: V, x: number): number {
  const { f } = v;
  // |x| by a mask: f32x4.abs makes V8 rebuild its mask in the loop every time.
  const ax = v.val(() => f.get(x).ki(~SIGN).simd('v128.and'));
  // Beyond 2|x| = 20 tanh rounds to 1: clamping there keeps 2^n a normal float, so it scales in
  // one step (exp needs two), and m finite. pmin passes NaN.
  const u = v.val(() => f.get(ax).get(ax).simd('f32x4.add').kf(20).simd('f32x4.pmin'));
  const { t, q } = expReduce(v, u, 127);
  // 2^n straight from t's bits: its low mantissa bits hold n + 127 (n in [0, 29]).
  const s = v.val(() => f.get(t).i32c(23).simd('i32x4.shl'));
  // m + 2 = 2^n·(e^r - 1) + (2^n + 1).
  const d = v.val(() => f.get(s).get(q).simd('f32x4.mul').get(s).kf(1).simd('f32x4.add').simd('f32x4.add'));
  const big = v.val(() => f.kf(1).kf(2).get(d).simd('f32x4.div').simd('f32x4.sub'));
  // |x| < 0.625: x + x·z·p(z), z = x², p by Estrin (see expReduce).
  const z = v.op('f32x4.mul', x, x);
  const z2 = v.op('f32x4.mul', z, z);
  const lo = v.val(() => f.get(z).kf(1.33314422036e-1).simd('f32x4.mul').kf(-3.33332819422e-1).simd('f32x4.add'));
  const hi = v.val(() => {
    f.get(z).kf(2.06390887954e-2).simd('f32x4.mul').kf(-5.37397155531e-2).simd('f32x4.add');
    f.get(z2).kf(-5.70498872745e-3).simd('f32x4.mul').simd('f32x4.add');
  });
  const small = v.val(() => {
    f.get(z2).get(hi).simd('f32x4.mul').get(lo).simd('f32x4.add');
    f.get(z).simd('f32x4.mul').get(ax).simd('f32x4.mul').get(ax).simd('f32x4.add');
  });
  const magnitude = v.select(v.val(() => f.get(ax).kf(0.625).simd('f32x4.ge')), big, small);
  // The sign of x, so tanh(-0) = -0 and the function stays exactly odd.
  return v.val(() => f.get(magnitude).get(x).ki(SIGN).simd('v128.and').simd('v128.or'));
}

/**
 * 1 / (1 + e^-x), with both sides scaled by 2^-64: 2^-64 / (2^-64 + E), E = e^-x·2^-64. The
 * formula is well conditioned everywhere (e^-x's relative error reaches the result times
 * 1 - sigmoid(x) at most), so it needs no select between tails: one exp, one division. The scale
 * keeps E finite where e^-x is not (x down to -104, where sigmoid is a denormal that the division
 * rounds once), and 2^n scales in one step.
 */
export function sigmoidF32(v: V, x: number): number {
  const { f } = v;
  // sigmoid(x) rounds to 1 above 17 and to 0 below -104; within [-104, 40] E = e^-x·2^-64 is a
  // normal float. pmin/pmax keep their first operand when a comparison fails: NaN passes.
  const xc = v.val(() => f.get(x).kf(40).simd('f32x4.pmin').kf(-104).simd('f32x4.pmax'));
  // n = round(-x·log2 e) in [-58, 150]; the bias 127 - 64 makes t << 23 the bits of 2^(n-64).
  const { t, q } = expReduce(v, xc, 127 - 64, true, true);
  // The denominator 2^-64 + E = q·2^(n-64) + (2^(n-64) + 2^-64): the sum in brackets is made
  // beside the polynomial, so after q only a multiplication, an addition and the division remain
  // (one operation fewer on the chain than ((q + 1)·2^(n-64)) + 2^-64, for as many in all).
  // Measured on SiLU 1000² (one thread, min of 30, 4 alternating rounds): forward 1.17-1.28 →
  // 1.12-1.18 ms, backward 1.41-1.96 → 1.34-1.50; over 8M arguments the same 2 ulp at most,
  // mean 0.25 → 0.23 ulp.
  const scale = v.val(() => f.get(t).i32c(23).simd('i32x4.shl'));
  const tail = v.val(() => f.get(scale).kf(2 ** -64).simd('f32x4.add'));
  return v.val(() => f.kf(2 ** -64).get(q).get(scale).simd('f32x4.mul').get(tail).simd('f32x4.add').simd('f32x4.div'));
}
