/**
 * WebAssembly SIMD folds of one contiguous row: `sum`, `max` and `min` of `n` float32 or float64
 * values at byte address `p`, returned as a float64 (what the JavaScript reduction accumulates in).
 *
 * Sums accumulate in float64 lanes, float32 inputs promoted two at a time, so a float32 sum is as
 * accurate as the JavaScript kernel's; eight lanes run side by side (four `f64x2` accumulators).
 * `max`/`min` fold in the input's own precision (exact) and propagate NaN, as `Math.max` does.
 */
import { ModuleBuilder, ValType, type Code } from './emitter.js';

export type RowOp = 'sum' | 'max' | 'min';
export type RowDtype = 'float32' | 'float64';
/** Exported as `row_<op>_<dtype>(p, n) -> f64`. */
export type RowFold = (p: number, n: number) => number;

export function rowFoldName(op: RowOp, dtype: RowDtype): string {
  return `row_${op}_${dtype}`;
}

/** `acc_<op>_<dtype>(a, p, n, rows, step)`, see `accFoldName`. */
export type AccFold = (a: number, p: number, n: number, rows: number, step: number) => void;

/** One module with every fold, for the memory type `memory`. */
export function emitRowFolds(memory: ConstructorParameters<typeof ModuleBuilder>[0]): Uint8Array {
  const mod = new ModuleBuilder(memory);
  for (const op of ['sum', 'max', 'min'] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      const c = mod.func(rowFoldName(op, dtype), [ValType.i32, ValType.i32], [ValType.f64]);
      emitFold(c, op, dtype, 0, 1);
      emitAcc(mod.func(accFoldName(op, dtype), [ValType.i32, ValType.i32, ValType.i32, ValType.i32, ValType.i32]), op, dtype);
    }
  }
  return mod.encode();
}

/** A fold of `n` elements at byte address `p` (locals), leaving its float64 on the stack. */
function emitFold(c: Code, op: RowOp, dtype: RowDtype, p: number, n: number): void {
  if (op === 'sum') emitSum(c, dtype, p, n);
  else emitExtreme(c, op, dtype, p, n);
  if (op !== 'sum' && dtype === 'float32') c.op('f64.promote_f32');
}

/** while (i < end) { body; i += step } */
function loopTo(c: Code, i: number, end: number, step: number, body: () => void): void {
  c.block().loop();
  c.get(i).get(end).op('i32.ge_u').brIf(1);
  body();
  c.get(i).i32c(step).op('i32.add').set(i);
  c.br(0).end().end();
}

/** Accumulators of a sum: f64x2 adds take 3-4 cycles, so one chain would leave the adder idle. */
const SUM_CHAINS = 4;

function emitSum(c: Code, dtype: RowDtype, P = 0, N = 1): void {
  const es = dtype === 'float32' ? 4 : 8;
  const per = 2 * SUM_CHAINS; // elements per iteration: two per f64x2 accumulator
  const i = c.local(ValType.i32);
  const endV = c.local(ValType.i32);
  const end = c.local(ValType.i32);
  const acc = Array.from({ length: SUM_CHAINS }, () => c.local(ValType.v128));
  const s = c.local(ValType.f64);
  c.get(P).set(i);
  // endV = p + (n & ~(per - 1)) * es; end = p + n * es
  c.get(P).get(N).i32c(~(per - 1)).op('i32.and').i32c(es).op('i32.mul').op('i32.add').set(endV);
  c.get(P).get(N).i32c(es).op('i32.mul').op('i32.add').set(end);
  for (const a of acc) c.f64x2c(0).set(a);
  loopTo(c, i, endV, per * es, () => {
    acc.forEach((a, k) => {
      if (dtype === 'float32') c.get(a).get(i).vmem('v128.load64_zero', 3, 8 * k).simd('f64x2.promote_low_f32x4').simd('f64x2.add').set(a);
      else c.get(a).get(i).vmem('v128.load', 4, 16 * k).simd('f64x2.add').set(a);
    });
  });
  // (a0 + a1) + (a2 + a3), then the two lanes, then the tail in order.
  for (let w = SUM_CHAINS; w > 1; w >>= 1) for (let k = 0; k < w / 2; k++) c.get(acc[k]!).get(acc[k + w / 2]!).simd('f64x2.add').set(acc[k]!);
  c.get(acc[0]!).lane('f64x2.extract_lane', 0).get(acc[0]!).lane('f64x2.extract_lane', 1).op('f64.add').set(s);
  loopTo(c, i, end, es, () => {
    c.get(s).get(i);
    if (dtype === 'float32') c.mem('f32.load', 2).op('f64.promote_f32');
    else c.mem('f64.load', 3);
    c.op('f64.add').set(s);
  });
  c.get(s);
}

function emitExtreme(c: Code, op: 'max' | 'min', dtype: RowDtype, P = 0, N = 1): void {
  const f32 = dtype === 'float32';
  const es = f32 ? 4 : 8;
  const per = 16 / es;
  const vop = f32 ? (op === 'max' ? 'f32x4.max' : 'f32x4.min') : op === 'max' ? 'f64x2.max' : 'f64x2.min';
  const sop = f32 ? (op === 'max' ? 'f32.max' : 'f32.min') : op === 'max' ? 'f64.max' : 'f64.min';
  const init = op === 'max' ? -Infinity : Infinity;
  const i = c.local(ValType.i32);
  const endV = c.local(ValType.i32);
  const end = c.local(ValType.i32);
  const a = c.local(ValType.v128);
  const s = c.local(f32 ? ValType.f32 : ValType.f64);
  c.get(P).set(i);
  c.get(P).get(N).i32c(~(per - 1)).op('i32.and').i32c(es).op('i32.mul').op('i32.add').set(endV);
  c.get(P).get(N).i32c(es).op('i32.mul').op('i32.add').set(end);
  if (f32) c.f32x4c(init);
  else c.f64x2c(init);
  c.set(a);
  loopTo(c, i, endV, 16, () => {
    c.get(a).get(i).vmem('v128.load', 4).simd(vop).set(a);
  });
  const ex = f32 ? 'f32x4.extract_lane' : 'f64x2.extract_lane';
  c.get(a).lane(ex, 0).get(a).lane(ex, 1).op(sop).set(s);
  if (f32) {
    c.get(s).get(a).lane(ex, 2).op(sop).set(s);
    c.get(s).get(a).lane(ex, 3).op(sop).set(s);
  }
  loopTo(c, i, end, es, () => {
    c.get(s).get(i).mem(f32 ? 'f32.load' : 'f64.load', f32 ? 2 : 3).op(sop).set(s);
  });
  c.get(s);
}

/**
 * `acc_<op>_<dtype>(a, p, n, rows, step)`: the float64 accumulator's `n` slots at byte address `a`
 * take in `rows` rows of `n` contiguous elements, the first at `p`, each next `step` bytes on,
 * slot by slot (`+`, or max/min with NaN propagated), row after row: a reduction over leading
 * axes (a bias's gradient).
 */
export function accFoldName(op: RowOp, dtype: RowDtype): string {
  return `acc_${op}_${dtype}`;
}

/**
 * Row after row (the input pointer moving `step` bytes), four elements per iteration (two `f64x2`
 * slots), then the row's tail one by one.
 */
function emitAcc(c: Code, op: RowOp, dtype: RowDtype): void {
  const f32 = dtype === 'float32';
  const es = f32 ? 4 : 8;
  const [a0, p0, n, rows, step] = [0, 1, 2, 3, 4];
  const vop = op === 'sum' ? 'f64x2.add' : op === 'max' ? 'f64x2.max' : 'f64x2.min';
  const sop = op === 'sum' ? 'f64.add' : op === 'max' ? 'f64.max' : 'f64.min';
  const a = c.local(ValType.i32);
  const p = c.local(ValType.i32);
  const r = c.local(ValType.i32);
  const aEndV = c.local(ValType.i32);
  const aEnd = c.local(ValType.i32);
  // aEndV = a0 + (n & ~3) * 8; aEnd = a0 + n * 8
  c.get(a0).get(n).i32c(~3).op('i32.and').i32c(8).op('i32.mul').op('i32.add').set(aEndV);
  c.get(a0).get(n).i32c(8).op('i32.mul').op('i32.add').set(aEnd);
  c.i32c(0).set(r);
  loopTo(c, r, rows, 1, () => {
    c.get(a0).set(a);
    // p = p0 + r * step
    c.get(p0).get(r).get(step).op('i32.mul').op('i32.add').set(p);
    loopTo(c, a, aEndV, 32, () => {
      for (let k = 0; k < 2; k++) {
        c.get(a).get(a).vmem('v128.load', 3, 16 * k).get(p);
        if (f32) c.vmem('v128.load64_zero', 2, 8 * k).simd('f64x2.promote_low_f32x4');
        else c.vmem('v128.load', 3, 16 * k);
        c.simd(vop).vmem('v128.store', 3, 16 * k);
      }
      c.get(p).i32c(4 * es).op('i32.add').set(p);
    });
    loopTo(c, a, aEnd, 8, () => {
      c.get(a).get(a).mem('f64.load', 3).get(p);
      if (f32) c.mem('f32.load', 2).op('f64.promote_f32');
      else c.mem('f64.load', 3);
      c.op(sop).mem('f64.store', 3);
      c.get(p).i32c(es).op('i32.add').set(p);
    });
  });
}
