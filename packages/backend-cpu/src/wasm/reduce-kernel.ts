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

/** One module with every fold, for the memory type `memory`. */
export function emitRowFolds(memory: ConstructorParameters<typeof ModuleBuilder>[0]): Uint8Array {
  const mod = new ModuleBuilder(memory);
  for (const op of ['sum', 'max', 'min'] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      const c = mod.func(rowFoldName(op, dtype), [ValType.i32, ValType.i32], [ValType.f64]);
      if (op === 'sum') emitSum(c, dtype);
      else emitExtreme(c, op, dtype);
    }
  }
  return mod.encode();
}

const P = 0;
const N = 1;

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

function emitSum(c: Code, dtype: RowDtype): void {
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

function emitExtreme(c: Code, op: 'max' | 'min', dtype: RowDtype): void {
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
  if (f32) c.op('f64.promote_f32');
}
