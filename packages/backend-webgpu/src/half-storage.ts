/**
 * float16 / bfloat16 on WebGPU: 16-bit storage, float32 arithmetic.
 *
 * A 16-bit storage packs two elements per u32 word (element p in word p >> 1, low half first: the
 * byte layout of an `array<f16>`), so it takes half the memory of float32. Kernels run on float32
 * stand-ins, as on the CPU (backend-cpu's half-storage.ts): before a kernel, each 16-bit view is
 * widened into a pooled f32 buffer with the same strides (one pass over the span of elements it
 * touches); after it, the outputs are narrowed back with round-to-nearest-even. That is PyTorch's
 * arithmetic for the 16-bit types (compute in float32, round once per op; reductions and matmul
 * accumulate in f32).
 *
 * The conversions are integer code on the bits, not `pack2x16float`/`unpack2x16float`: WGSL leaves
 * the rounding of `pack2x16float` to the implementation and its result indeterminate outside
 * float16's finite range, and may flush subnormals; the integer code is bit-exact everywhere
 * (checked against PyTorch for all 65,536 patterns). bfloat16 is shift-based. The widened words
 * are moved as raw u32 too, so no float operation can touch a NaN payload or a subnormal.
 *
 * Narrowing writes whole words, one invocation per word, so two halves never race. A word half
 * outside the output view but inside its span keeps its old bits exactly: a half is rewritten
 * only when the stand-in's bits differ from its widened old value.
 */
import { isHalfDType, runWidened, type DType, type ElementwiseKernel, type ElementwiseSpec, type HalfDType, type View, type Widening } from '@nabla/core';
import type { KernelContext } from './context.js';
import type { Dispatcher } from './dispatcher.js';
import { collapse, isContiguous, numelOf } from './geometry.js';
import { copyToDense } from './kernels/copy.js';
import { GpuStorage, type BufferPool } from './storage.js';
import { entry1d, groupsFor, META_DECL, offsetWalk } from './wgsl/common.js';

/** WGSL: float16/bfloat16 bits (low 16 bits of a u32) ↔ float32 bits, exact, round to nearest even. */
export const HALF_WGSL = `
fn nb_h2f(h: u32) -> u32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  var m = h & 0x3ffu;
  if (e == 0x1fu) { return s | 0x7f800000u | (m << 13u) | select(0u, 0x400000u, m != 0u); }
  if (e != 0u) { return s | ((e + 112u) << 23u) | (m << 13u); }
  if (m == 0u) { return s; }
  var ex = 113u;
  loop {
    if ((m & 0x400u) != 0u) { break; }
    m = m << 1u;
    ex = ex - 1u;
  }
  return s | (ex << 23u) | ((m & 0x3ffu) << 13u);
}
fn nb_f2h(u: u32) -> u32 {
  let s = (u >> 16u) & 0x8000u;
  let ex = (u >> 23u) & 0xffu;
  let m = u & 0x7fffffu;
  if (ex == 0xffu) { return s | select(0x7c00u, 0x7e00u, m != 0u); }
  let e = i32(ex) - 127;
  if (e > 15) { return s | 0x7c00u; }
  if (e >= -14) {
    let base = (u32(e + 15) << 10u) | (m >> 13u);
    let rest = m & 0x1fffu;
    let up = select(0u, 1u, rest > 0x1000u || (rest == 0x1000u && (base & 1u) == 1u));
    return s | (base + up);
  }
  if (e < -25) { return s; }
  let full = m | 0x800000u;
  let shift = u32(-e - 1);
  let mm = full >> shift;
  let rest = full & ((1u << shift) - 1u);
  let halfway = 1u << (shift - 1u);
  let up = select(0u, 1u, rest > halfway || (rest == halfway && (mm & 1u) == 1u));
  return s | (mm + up);
}
fn nb_b2f(h: u32) -> u32 { return h << 16u; }
fn nb_f2b(u: u32) -> u32 {
  if ((u & 0x7fffffffu) > 0x7f800000u) { return 0x7fc0u; }
  let lsb = (u >> 16u) & 1u;
  return ((u + 0x7fffu + lsb) >> 16u) & 0xffffu;
}
fn nb_half_at(p: u32) -> u32 { return (src16[p >> 1u] >> ((p & 1u) * 16u)) & 0xffffu; }
`;

const toF = (d: HalfDType): string => (d === 'float16' ? 'nb_h2f' : 'nb_b2f');
const fromF = (d: HalfDType): string => (d === 'float16' ? 'nb_f2h' : 'nb_f2b');

/** Widen: tmp[i] = f32 bits of element lo + i, for i < n (args: n, lo). */
const widenSource = (d: HalfDType): string => `// widen ${d} span to f32 words
${META_DECL}
@group(0) @binding(1) var<storage, read_write> tmp: array<u32>;
@group(0) @binding(2) var<storage, read> src16: array<u32>;
${HALF_WGSL}
${entry1d(`  if (gid >= args[0]) { return; }
  tmp[gid] = ${toF(d)}(nb_half_at(args[1] + gid));`)}`;

/**
 * Narrow: for each word w of the 16-bit storage overlapping [lo, hi] (args: nWords, firstWord, lo,
 * hi), each half inside [lo, hi] whose stand-in changed gets the stand-in rounded to 16 bits.
 */
const narrowSource = (d: HalfDType): string => `// narrow f32 words into a ${d} span
${META_DECL}
@group(0) @binding(1) var<storage, read_write> dst16: array<u32>;
@group(0) @binding(2) var<storage, read> tmp: array<u32>;
${HALF_WGSL.replace('fn nb_half_at(p: u32) -> u32 { return (src16[p >> 1u] >> ((p & 1u) * 16u)) & 0xffffu; }', '')}
${entry1d(`  if (gid >= args[0]) { return; }
  let w = args[1] + gid;
  var word = dst16[w];
  for (var k = 0u; k < 2u; k = k + 1u) {
    let p = 2u * w + k;
    if (p < args[2] || p > args[3]) { continue; }
    let old = (word >> (k * 16u)) & 0xffffu;
    let f = tmp[p - args[2]];
    if (f != ${toF(d)}(old)) {
      word = (word & ~(0xffffu << (k * 16u))) | (${fromF(d)}(f) << (k * 16u));
    }
  }
  dst16[w] = word;`)}`;

/** Dense gather of a strided 16-bit view into packed words (reads): word i = elements 2i, 2i+1. */
const GATHER_SOURCE = `// strided 16-bit view to dense packed words
${META_DECL}
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<storage, read> src16: array<u32>;
fn nb_half_at(p: u32) -> u32 { return (src16[p >> 1u] >> ((p & 1u) * 16u)) & 0xffffu; }
fn nb_offset(i: u32) -> u32 {
${offsetWalk('i', 'args[1]', '3u', [{ name: 'o', init: 'args[2]', stridesAt: '3u + args[1]' }])}
  return o;
}
${entry1d(`  let n = args[0];
  let i = 2u * gid;
  if (i >= n) { return; }
  var word = nb_half_at(nb_offset(i));
  if (i + 1u < n) { word = word | (nb_half_at(nb_offset(i + 1u)) << 16u); }
  dst[gid] = word;`)}`;

/** A float32 stand-in for a 16-bit view. */
interface Widened {
  readonly view: View;
  readonly tmp: GpuStorage;
  readonly lo: number;
  readonly hi: number;
}

function span(v: View): [number, number] {
  let hi = v.offset;
  for (let d = 0; d < v.shape.length; d++) hi += (v.shape[d]! - 1) * v.strides[d]!;
  return [v.offset, hi];
}

export class HalfBridge {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly pool: BufferPool,
    private readonly ctx: KernelContext,
  ) {}

  /** Words a 16-bit storage of `numel` elements needs. */
  static words(numel: number): number {
    return Math.ceil(numel / 2);
  }

  widen(v: View): Widened {
    const src = this.ctx.storage('half', 'view', v);
    const empty = numelOf(v.shape) === 0;
    const [lo, hi] = empty ? [v.offset, v.offset] : span(v);
    const n = hi - lo + 1;
    const { buffer, capacity } = this.pool.acquire(n);
    const tmp = new GpuStorage('float32', n, buffer, capacity);
    if (!empty) {
      const d = v.dtype as HalfDType;
      const k = this.dispatcher.kernel(`half-widen-${d}`, `widen ${d}`, () => widenSource(d), ['write', 'read']);
      this.dispatcher.dispatch(k, [n, lo], [buffer, src.buffer], groupsFor(n));
    }
    return { view: { storage: tmp, dtype: 'float32', shape: v.shape, strides: v.strides, offset: v.offset - lo }, tmp, lo, hi };
  }

  narrow(w: Widened, v: View): void {
    if (numelOf(v.shape) === 0) return;
    const dst = this.ctx.storage('half', 'out', v);
    const d = v.dtype as HalfDType;
    const first = w.lo >> 1;
    const nWords = (w.hi >> 1) - first + 1;
    const k = this.dispatcher.kernel(`half-narrow-${d}`, `narrow ${d}`, () => narrowSource(d), ['write', 'read']);
    this.dispatcher.dispatch(k, [nWords, first, w.lo, w.hi], [dst.buffer, w.tmp.buffer], groupsFor(nWords));
  }

  done(w: Widened): void {
    w.tmp.released = true;
    this.pool.give(w.tmp.buffer, w.tmp.capacity);
  }

  /** Runs a structured kernel with its 16-bit views widened; `outs` are narrowed back afterwards. */
  run(kernel: (...args: unknown[]) => void, args: readonly unknown[], outs: readonly number[]): void {
    runWidened(kernel, args, outs, this.widening);
  }

  private readonly widening: Widening<Widened> = {
    owns: isView,
    widen: (v) => this.widen(v),
    viewOf: (w) => w.view,
    narrow: (w, v) => this.narrow(w, v),
    // Recorded work runs in order, so a buffer given back now is only reused by later work.
    done: (w) => this.done(w),
  };

  /** An elementwise kernel over 16-bit operands: widen, the f32 spec's kernel, narrow. */
  elementwise(spec: ElementwiseSpec, compile: (s: ElementwiseSpec) => ElementwiseKernel): ElementwiseKernel {
    const isCast = isCastSpec(spec);
    const f32 = compile(widenedSpec(spec));
    return (out, inputs, params) => {
      if (isCast && isContiguous(out.shape, out.strides)) {
        this.cast(out, inputs[0]!);
        return;
      }
      const made: Widened[] = [];
      try {
        const ins = inputs.map((v) => {
          if (!isHalfDType(v.dtype)) return v;
          const w = this.widen(v);
          made.push(w);
          return w.view;
        });
        if (!isHalfDType(out.dtype)) {
          f32(out, ins, params);
          return;
        }
        const wo = this.widen(out);
        made.push(wo);
        f32(wo.view, ins, params);
        this.narrow(wo, out);
      } finally {
        for (const w of made) this.done(w);
      }
    };
  }

  /** A cast between float32 and the 16-bit types into a contiguous `out`, moving raw words only. */
  private cast(out: View, x: View): void {
    const made: Widened[] = [];
    try {
      let src = x;
      if (isHalfDType(x.dtype)) {
        const w = this.widen(x);
        made.push(w);
        src = w.view;
      }
      const srcBuf = this.ctx.storage('to', 'input', src).buffer;
      if (!isHalfDType(out.dtype)) {
        copyToDense(this.ctx, srcBuf, src, this.ctx.storage('to', 'out', out).buffer, out.offset);
        return;
      }
      const wo = this.widen(out);
      made.push(wo);
      copyToDense(this.ctx, srcBuf, src, wo.tmp.buffer, wo.view.offset);
      this.narrow(wo, out);
    } finally {
      for (const w of made) this.done(w);
    }
  }

  /** A strided 16-bit view as dense packed words in `dst` (for reads). */
  gather(v: View, dst: GPUBuffer): void {
    const n = numelOf(v.shape);
    if (n === 0) return;
    const s = this.ctx.storage('read', 'view', v);
    const g = collapse(v.shape, [v.strides]);
    const k = this.dispatcher.kernel('half-gather', 'gather 16-bit', GATHER_SOURCE, ['write', 'read']);
    this.dispatcher.dispatch(k, [n, g.shape.length, v.offset, ...g.shape, ...g.strides[0]!], [dst, s.buffer], groupsFor(HalfBridge.words(n)));
  }
}

function castable(d: DType): boolean {
  return d === 'float32' || isHalfDType(d);
}

function isView(a: unknown): a is View {
  return typeof a === 'object' && a !== null && (a as View).storage instanceof GpuStorage;
}

/** A cast between float32 and a 16-bit type (or between the 16-bit types). */
export function isCastSpec(spec: ElementwiseSpec): boolean {
  return spec.expr.op === 'input' && spec.inputDtypes.length === 1 && castable(spec.inputDtypes[0]!) && castable(spec.outDtype);
}

export function specHasHalf(spec: ElementwiseSpec): boolean {
  return isHalfDType(spec.outDtype) || isHalfDType(spec.computeDtype) || spec.inputDtypes.some(isHalfDType);
}

function widenedSpec(spec: ElementwiseSpec): ElementwiseSpec {
  const w = (d: DType): DType => (isHalfDType(d) ? 'float32' : d);
  return { ...spec, inputDtypes: spec.inputDtypes.map(w), outDtype: w(spec.outDtype), computeDtype: w(spec.computeDtype), key: `${spec.key}|as-f32` };
}
