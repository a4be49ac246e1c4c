/**
 * float16 / bfloat16 on the CPU: storage holds the 16 raw bits (Uint16Array); every kernel runs on
 * float32 stand-ins.
 *
 * This is the one place 16-bit data is touched. Before a kernel runs, each 16-bit view is widened
 * (exactly) into a pooled float32 buffer with the same strides; the float32 kernel — JavaScript or
 * WebAssembly, whichever float32 would use — runs on those; then the output view is narrowed back
 * with round-to-nearest-even. That is PyTorch's arithmetic for the 16-bit types: compute in
 * float32, round to the 16-bit type once per op, and reductions and matmul accumulate in float32
 * (or wider) because the float32 kernels do. Only the elements a view covers are converted, so a
 * slice of a large tensor costs its own size, and broadcast (stride 0) dims stay unexpanded.
 */
import {
  isHalfDType,
  runWidened,
  type DType,
  type HalfDType,
  type Widening,
  type ElementwiseKernel,
  type ElementwiseSpec,
  type View,
} from '@nabla/core';
import type { BufferPool } from './storage.js';
import { CpuStorage } from './storage.js';
import { collapse, forEachRow, numelOf } from './strided.js';
import { NARROW_ROW, WIDEN_ROW, wordsOf } from './half-convert.js';
import { tiledHalfKernel } from './half-elementwise.js';

/** The dtype a kernel sees in place of `d`. */
export function widenedDType(d: DType): DType {
  return isHalfDType(d) ? 'float32' : d;
}

/** A float32 stand-in for a 16-bit view: `view` reads/writes `tmp` at `offset - lo` of the original. */
interface Widened {
  readonly view: View;
  readonly tmp: CpuStorage;
  readonly lo: number;
}

/** The lowest and highest element offsets a view touches (strides are never negative). */
function span(v: View): [number, number] {
  let hi = v.offset;
  for (let d = 0; d < v.shape.length; d++) hi += (v.shape[d]! - 1) * v.strides[d]!;
  return [v.offset, hi];
}

/**
 * Calls `row(p, n, s)` for each innermost row of `v`: its first element's offset, length and
 * stride. Loops live inside the callers' rows (one call per row, not per element): the widen and
 * narrow loops are the whole cost of 16-bit storage on the CPU.
 */
function forRows(v: View, row: (p: number, n: number, s: number) => void): void {
  if (v.shape.length === 0) {
    row(v.offset, 1, 1);
    return;
  }
  const g = collapse(v.shape, [v.strides]);
  const s = g.strides[0]![g.shape.length - 1]!;
  forEachRow(g.shape, g.strides, [v.offset], (bases, n) => row(bases[0]!, n, s));
}

export class HalfBridge {
  constructor(private readonly pool: BufferPool) {}

  /** A float32 view over a pooled copy of `v`'s elements (contents only when `read`). */
  widen(v: View, read: boolean): Widened {
    const src = v.storage as CpuStorage;
    if (numelOf(v.shape) === 0) {
      const tmp = this.pool.allocate('float32', 0);
      return { view: { ...v, storage: tmp, dtype: 'float32', offset: 0 }, tmp, lo: v.offset };
    }
    const [lo, hi] = span(v);
    const tmp = this.pool.allocate('float32', hi - lo + 1);
    if (read) {
      const bits = src.data as Uint16Array;
      const out = wordsOf(tmp.data as Float32Array);
      const conv = WIDEN_ROW[src.dtype as HalfDType];
      forRows(v, (p, n, s) => conv(bits, p, s, out, p - lo, s, n));
    }
    return { view: { storage: tmp, dtype: 'float32', shape: v.shape, strides: v.strides, offset: v.offset - lo }, tmp, lo };
  }

  /** Rounds the stand-in's elements back into `v`'s 16-bit storage (nearest even). */
  narrow(w: Widened, v: View): void {
    if (numelOf(v.shape) === 0) return;
    const dst = (v.storage as CpuStorage).data as Uint16Array;
    const u = wordsOf(w.tmp.data as Float32Array);
    const lo = w.lo;
    const conv = NARROW_ROW[v.dtype as HalfDType];
    forRows(v, (p, n, s) => conv(u, p - lo, s, dst, p, s, n));
  }

  done(w: Widened): void {
    w.tmp.released = true;
    this.pool.release(w.tmp);
  }

  /** Runs a structured kernel with its 16-bit views widened; `outs` are narrowed back afterwards. */
  run(kernel: (...args: unknown[]) => void, args: readonly unknown[], outs: readonly number[]): void {
    runWidened(kernel, args, outs, this.widening);
  }

  private readonly widening: Widening<Widened> = {
    owns: isView,
    widen: (v) => this.widen(v, true),
    viewOf: (w) => w.view,
    narrow: (w, v) => this.narrow(w, v),
    done: (w) => this.done(w),
  };

  /**
   * An elementwise kernel for a spec with 16-bit operands: the float32 spec's kernel (`compile`
   * gives it) between a widen of the inputs and a narrow of the output. The output is not read.
   */
  elementwise(spec: ElementwiseSpec, compile: (s: ElementwiseSpec) => ElementwiseKernel): ElementwiseKernel {
    const cast = castKernel(spec);
    if (cast !== null) return cast;
    const f32 = compile(widenedSpec(spec));
    const whole: ElementwiseKernel = (out, inputs, params) => {
      const made: Widened[] = [];
      try {
        const ins = inputs.map((v) => {
          if (!isHalfDType(v.dtype)) return v;
          const w = this.widen(v, true);
          made.push(w);
          return w.view;
        });
        if (!isHalfDType(out.dtype)) {
          f32(out, ins, params);
          return;
        }
        const wo = this.widen(out, false);
        made.push(wo);
        f32(wo.view, ins, params);
        this.narrow(wo, out);
      } finally {
        for (const w of made) this.done(w);
      }
    };
    return tiledHalfKernel(spec, f32, whole);
  }
}

/** A float32 storage's elements as words, or a 16-bit storage's bits. */
function wordsOrBits(v: View): Int32Array | Uint16Array {
  const d = (v.storage as CpuStorage).data;
  return v.dtype === 'float32' ? wordsOf(d as Float32Array) : (d as Uint16Array);
}

/** One strided row of a cast between float32 and the 16-bit types, as bits. */
type CastRow = (src: Int32Array & Uint16Array, q: number, t: number, dst: Int32Array & Uint16Array, p: number, s: number, n: number) => void;

/** float16 ↔ bfloat16 goes through one float32 word per element (exact both ways but the final rounding). */
function halfToHalfRow(from: HalfDType, to: HalfDType): CastRow {
  const word = new Int32Array(1);
  const widen = WIDEN_ROW[from];
  const narrow = NARROW_ROW[to];
  return (src, q, t, dst, p, s, n) => {
    for (let j = 0; j < n; j++, q += t, p += s) {
      widen(src, q, 1, word, 0, 1, 1);
      narrow(word, 0, 1, dst, p, 1, 1);
    }
  };
}

function castRow(from: DType, to: DType): CastRow | null {
  if (from === 'float32' && isHalfDType(to)) {
    const f = NARROW_ROW[to];
    return (src, q, t, dst, p, s, n) => f(src, q, t, dst, p, s, n);
  }
  if (isHalfDType(from) && to === 'float32') {
    const f = WIDEN_ROW[from];
    return (src, q, t, dst, p, s, n) => f(src, q, t, dst, p, s, n);
  }
  if (isHalfDType(from) && isHalfDType(to)) return halfToHalfRow(from, to);
  return null;
}

/**
 * Casts between float32 and the 16-bit types (and between those two) are a bit conversion per
 * element, with no float32 stand-in: faster, and exact to the bit (a NaN's payload included,
 * which a trip through a JS number may not keep).
 */
function castKernel(spec: ElementwiseSpec): ElementwiseKernel | null {
  if (spec.expr.op !== 'input' || spec.inputDtypes.length !== 1) return null;
  const row = castRow(spec.inputDtypes[0]!, spec.outDtype);
  if (row === null) return null;
  return (out, inputs) => {
    const x = inputs[0]!;
    const dst = wordsOrBits(out) as Int32Array & Uint16Array;
    const src = wordsOrBits(x) as Int32Array & Uint16Array;
    if (out.shape.length === 0) {
      row(src, x.offset, 1, dst, out.offset, 1, 1);
      return;
    }
    if (numelOf(out.shape) === 0) return;
    const g = collapse(out.shape, [out.strides, x.strides]);
    const last = g.shape.length - 1;
    const so = g.strides[0]![last]!;
    const si = g.strides[1]![last]!;
    forEachRow(g.shape, g.strides, [out.offset, x.offset], (b, n) => row(src, b[1]!, si, dst, b[0]!, so, n));
  };
}

function isView(a: unknown): a is View {
  return typeof a === 'object' && a !== null && (a as View).storage instanceof CpuStorage;
}

/** Whether a spec has a 16-bit operand, output or compute type. */
export function specHasHalf(spec: ElementwiseSpec): boolean {
  return isHalfDType(spec.outDtype) || isHalfDType(spec.computeDtype) || spec.inputDtypes.some(isHalfDType);
}

/** The same expression over float32 stand-ins. */
export function widenedSpec(spec: ElementwiseSpec): ElementwiseSpec {
  return {
    ...spec,
    inputDtypes: spec.inputDtypes.map(widenedDType),
    outDtype: widenedDType(spec.outDtype),
    computeDtype: widenedDType(spec.computeDtype),
    key: `${spec.key}|as-f32`,
  };
}
