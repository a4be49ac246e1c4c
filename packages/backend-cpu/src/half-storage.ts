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
  float32BitsToBfloat16Bits,
  float32BitsToHalfBits,
  halfBitsToFloat32Bits,
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

let f16Table: Uint32Array | null = null;
/** float16 bits → float32 bits for all 65,536 patterns (256 KiB, made on first use): a load per element. */
function halfTable(): Uint32Array {
  if (f16Table === null) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = halfBitsToFloat32Bits(h);
  }
  return f16Table;
}

/** float32 bits → float16 bits: the float16-normal range inline, the rest (subnormal, Inf, NaN) in core's. */
function toHalfBits(u: number): number {
  const e = (u >>> 23) & 0xff;
  if (e >= 113 && e <= 142) {
    const base = ((u >>> 16) & 0x8000) | ((e - 112) << 10) | ((u >>> 13) & 0x3ff);
    const rest = u & 0x1fff;
    // A carry out of the mantissa steps the exponent; out of the largest one it lands on Inf.
    return rest > 0x1000 || (rest === 0x1000 && (base & 1) === 1) ? base + 1 : base;
  }
  return float32BitsToHalfBits(u);
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
      const out = new Uint32Array(tmp.data.buffer, tmp.data.byteOffset, hi - lo + 1);
      if (src.dtype === 'float16') {
        const t = halfTable();
        forRows(v, (p, n, s) => {
          for (let j = 0, q = p - lo; j < n; j++, p += s, q += s) {
            const h = bits[p]!;
            const e = h & 0x7c00;
            // Normal values re-bias the exponent (+112) in place; zeros, subnormals, Inf and NaN from the table.
            out[q] = e !== 0 && e !== 0x7c00 ? ((h & 0x8000) << 16) | (((h & 0x7fff) << 13) + 0x38000000) : t[h]!;
          }
        });
      } else {
        forRows(v, (p, n, s) => {
          for (let j = 0, q = p - lo; j < n; j++, p += s, q += s) out[q] = bits[p]! << 16;
        });
      }
    }
    return { view: { storage: tmp, dtype: 'float32', shape: v.shape, strides: v.strides, offset: v.offset - lo }, tmp, lo };
  }

  /** Rounds the stand-in's elements back into `v`'s 16-bit storage (nearest even). */
  narrow(w: Widened, v: View): void {
    if (numelOf(v.shape) === 0) return;
    const dst = (v.storage as CpuStorage).data as Uint16Array;
    const f = w.tmp.data;
    const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
    const lo = w.lo;
    if (v.dtype === 'float16') {
      forRows(v, (p, n, s) => {
        for (let j = 0, q = p - lo; j < n; j++, p += s, q += s) dst[p] = toHalfBits(u[q]!);
      });
    } else {
      forRows(v, (p, n, s) => {
        for (let j = 0, q = p - lo; j < n; j++, p += s, q += s) {
          const x = u[q]!;
          // Round to nearest even on the upper half; every NaN becomes 0x7FC0 (as core's conversion).
          dst[p] = (x & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
        }
      });
    }
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
    return (out, inputs, params) => {
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
  }
}

type BitsConv = (u: number) => number;
const fromHalf: Record<HalfDType, BitsConv> = { float16: (h) => halfTable()[h]!, bfloat16: (h) => (h << 16) >>> 0 };
const toHalf: Record<HalfDType, BitsConv> = { float16: toHalfBits, bfloat16: float32BitsToBfloat16Bits };

/** The elements of a float32 or 16-bit storage as unsigned words (float32 through a bit alias). */
function words(v: View): Uint16Array | Uint32Array {
  const d = (v.storage as CpuStorage).data;
  return v.dtype === 'float32' ? new Uint32Array(d.buffer, d.byteOffset, d.length) : (d as Uint16Array);
}

/**
 * Casts between float32 and the 16-bit types (and between those two) are a bit conversion per
 * element, with no float32 stand-in: faster, and exact to the bit (a NaN's payload included,
 * which a trip through a JS number may not keep).
 */
function castKernel(spec: ElementwiseSpec): ElementwiseKernel | null {
  if (spec.expr.op !== 'input' || spec.inputDtypes.length !== 1) return null;
  const from = spec.inputDtypes[0]!;
  const to = spec.outDtype;
  if ((from !== 'float32' && !isHalfDType(from)) || (to !== 'float32' && !isHalfDType(to))) return null;
  const widen: BitsConv | null = isHalfDType(from) ? fromHalf[from] : null;
  const narrow: BitsConv | null = isHalfDType(to) ? toHalf[to] : null;
  const conv: BitsConv = widen && narrow ? (u) => narrow(widen(u)) : (widen ?? narrow ?? ((u) => u));
  return (out, inputs) => {
    const x = inputs[0]!;
    const dst = words(out);
    const src = words(x);
    if (out.shape.length === 0) {
      dst[out.offset] = conv(src[x.offset]!);
      return;
    }
    const g = collapse(out.shape, [out.strides, x.strides]);
    const last = g.shape.length - 1;
    const so = g.strides[0]![last]!;
    const si = g.strides[1]![last]!;
    forEachRow(g.shape, g.strides, [out.offset, x.offset], (b, n) => {
      for (let j = 0, p = b[0]!, q = b[1]!; j < n; j++, p += so, q += si) dst[p] = conv(src[q]!);
    });
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
