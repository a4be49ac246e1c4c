/**
 * Compiles an elementwise expression (core's `expr/ir.ts`) into a WebAssembly SIMD loop:
 * float32 data computes in f32x4 (as PyTorch computes float32 ops in float32), float64 in f64x2.
 *
 * The kernel `run(n, out, in0.., step0.., p0..)` walks `n` elements (rounded up to whole vectors:
 * the caller's buffers are padded) from byte pointers; `step_i` is how far input i advances per
 * vector: 16 for a dense input, 0 for one broadcast value the caller replicated across a vector.
 * One module therefore serves every mix of dense and broadcast inputs. Bool inputs are bytes,
 * widened to lanes (4 bytes per f32x4 vector, 2 per f64x2).
 *
 * Only expressions whose every node has a SIMD form compile (`wasmPlan` says which); the backend
 * runs the JavaScript kernel for the rest. float64 keeps exact Math.* semantics by not
 * vectorizing transcendentals at all.
 */
import type { DType, ElementwiseSpec, Expr } from '@nabla/core';
import { ModuleBuilder, ValType, type SimdOp } from './emitter.js';
import { expF32, logF32, sigmoidF32, tanhF32, V } from './vmath.js';

export type Lane = 'f32' | 'f64';

/**
 * Vectors per loop iteration, at most (see the loop in `emitElementwise`). Measured on SiLU and
 * friends (Zen 2, V8 12): 2 is 20-30% faster than 1, 3 and 4 another 10-15%; 4 spills a few
 * constants more, but loads from the stack are cheap beside the arithmetic. Again on Zen 3 (V8
 * 11.3, `scripts/bench-vmath.mjs`): 1 takes twice the time of 4, 2 10-30% more, 3 about the same
 * (tanh a little less, siluBwd more), 5 to 8 more again (V8 spills and reloads ever more of the
 * dozen-odd constants and live values: x64 has 16 xmm registers, and V8 folds no stack or memory
 * operand into a SIMD instruction). The order of the statements within the loop makes no
 * difference: V8 schedules them itself.
 */
export const UNROLL = 4;
/**
 * Bytes a module with an unrolled loop may have. Older Chromes (and some Android WebViews) refuse
 * to compile a module over 4 KiB synchronously on the main thread, and the kernel then stays in
 * JavaScript: unrolling must not push a module that fitted before over it.
 */
const MODULE_BUDGET = 4096;
/**
 * Bytes of loop bodies a module may hold, a first cut before the module is measured (constants, the
 * later vectors' loads and the rest of the module take about a third more).
 */
const BODY_BUDGET = 3000;

/** The unroll for a vector body of `bytes`: up to `max` copies plus the tail's within the budget. */
export function unrollFor(bytes: number, max: number = UNROLL): number {
  for (let u = max; u > 1; u >>= 1) if ((u + 1) * bytes <= BODY_BUDGET) return u;
  return 1;
}

export interface WasmPlan {
  readonly lane: Lane;
  /** Per input: its element bytes in memory (4/8 float, 1 bool). */
  readonly inputBytes: readonly number[];
  /**
   * Rough SIMD instructions per vector (a transcendental counts ~30, a division or root ~4): what
   * decides whether splitting the work across threads repays copying the operands in first.
   */
  readonly cost: number;
}

const OP_COST: Readonly<Record<string, number>> = { exp: 30, log: 40, tanh: 45, sigmoid: 35, div: 4, sqrt: 4, rsqrt: 5, reciprocal: 4 };

const LANE_OPS = new Set([
  'neg', 'abs', 'sqrt', 'rsqrt', 'reciprocal', 'square', 'floor', 'ceil', 'round', 'trunc',
  'relu', 'sign', 'not', 'isnan',
  'add', 'sub', 'mul', 'div', 'max', 'min', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or',
]);
const F32_ONLY = new Set(['exp', 'log', 'tanh', 'sigmoid']);

function children(e: Expr): Expr[] {
  if (e.op === 'input' || e.op === 'param' || e.op === 'const') return [];
  if (e.op === 'where') return [e.cond, e.a, e.b];
  return 'b' in e ? [e.a, e.b] : [e.a];
}

/** Nodes of the roots' DAG in post-order, each once (shared nodes are evaluated once). */
function postOrder(roots: readonly Expr[]): Expr[] {
  const seen = new Set<Expr>();
  const order: Expr[] = [];
  const stack: { e: Expr; visited: boolean }[] = [];
  for (let r = roots.length - 1; r >= 0; r--) stack.push({ e: roots[r]!, visited: false });
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (seen.has(top.e)) {
      stack.pop();
      continue;
    }
    if (!top.visited) {
      top.visited = true;
      for (const c of children(top.e)) if (!seen.has(c)) stack.push({ e: c, visited: false });
      continue;
    }
    stack.pop();
    seen.add(top.e);
    order.push(top.e);
  }
  return order;
}

/**
 * How `spec` runs in wasm, or null when it must stay in JavaScript. `roots`: the expressions the
 * kernel stores, one output each (a pair kernel's f and f', `elementwise-pair.ts`).
 */
export function wasmPlan(spec: ElementwiseSpec, roots: readonly Expr[] = [spec.expr]): WasmPlan | null {
  const out = spec.outDtype;
  if (out !== 'float32' && out !== 'float64') return null;
  if (spec.computeDtype !== 'float32' && spec.computeDtype !== 'float64') return null;
  const lane: Lane = out === 'float32' ? 'f32' : 'f64';
  const inputBytes: number[] = [];
  for (const d of spec.inputDtypes as readonly DType[]) {
    if (d === out) inputBytes.push(lane === 'f32' ? 4 : 8);
    else if (d === 'bool') inputBytes.push(1);
    else return null;
  }
  let cost = 0;
  for (const e of postOrder(roots)) {
    if (e.op === 'input' || e.op === 'param' || e.op === 'const') continue;
    cost += OP_COST[e.op] ?? 1;
    if (e.op === 'where' || LANE_OPS.has(e.op)) continue;
    if (lane === 'f32' && F32_ONLY.has(e.op)) continue;
    return null;
  }
  return { lane, inputBytes, cost };
}

/**
 * Adds the exported function `run` for `spec` to `mod`; returns the vectors per iteration it chose.
 * With several `roots` the kernel is `run(n, out0, out1.., in0.., step0.., p0..)`, storing root j
 * to out j (every output dense, advancing with the others).
 */
export function emitElementwise(mod: ModuleBuilder, spec: ElementwiseSpec, plan: WasmPlan, roots: readonly Expr[] = [spec.expr]): number {
  // The largest unroll whose module fits MODULE_BUDGET, by emitting it (a fraction of a millisecond).
  for (let max = UNROLL; max > 1; max >>= 1) {
    const trial = new ModuleBuilder(mod.memory);
    const u = emitLoops(trial, spec, plan, max, roots);
    if (u === 1) break;
    if (trial.encode().length <= MODULE_BUDGET) return emitLoops(mod, spec, plan, u, roots);
  }
  return emitLoops(mod, spec, plan, 1, roots);
}

function emitLoops(mod: ModuleBuilder, spec: ElementwiseSpec, plan: WasmPlan, maxUnroll: number, roots: readonly Expr[]): number {
  const nIn = spec.inputDtypes.length;
  const nOut = roots.length;
  const i32 = ValType.i32;
  const scalar = plan.lane === 'f32' ? ValType.f32 : ValType.f64;
  const params = [i32, ...new Array<ValType>(nOut).fill(i32), ...new Array<ValType>(2 * nIn).fill(i32), ...new Array<ValType>(spec.numParams).fill(scalar)];
  const f = mod.func('run', params);
  const v = new V(f);
  const N = 0;
  const OUT = (j: number): number => 1 + j;
  const inPtr = (i: number): number => 1 + nOut + i;
  const inStep = (i: number): number => 1 + nOut + nIn + i;
  const param = (j: number): number => 1 + nOut + 2 * nIn + j;
  const L = plan.lane === 'f32' ? 'f32x4' : 'f64x2';
  const lanes = plan.lane === 'f32' ? 4 : 2;
  const s = (op: string): SimdOp => `${L}.${op}` as SimdOp;
  const constV = (c: number): void => {
    // Hoisted into the prologue: V8 would rebuild a v128.const on every iteration.
    if (plan.lane === 'f32') f.kf(c);
    else f.kd(c);
  };

  const order = postOrder(roots);
  // Parameters are splatted once, outside the loop.
  const paramLocal = new Map<number, number>();
  for (const e of order) {
    if (e.op !== 'param' || paramLocal.has(e.index)) continue;
    paramLocal.set(e.index, v.val(() => f.get(param(e.index)).simd(plan.lane === 'f32' ? 'f32x4.splat' : 'f64x2.splat')));
  }
  const i = f.local(i32);
  f.i32c(0).set(i);
  const one = v.val(() => constV(1));
  const zero = v.val(() => constV(0));
  const mask = (op: string, a: number, b: number): number => v.op(s(op), a, b);
  const bool = (m: number): number => v.op('v128.and', m, one);
  /** Which vector of an unrolled iteration the nodes are emitted for (its loads read `step` further per index). */
  let vec = 0;
  let at = new Map<Expr, number>();
  /** Emits one vector's nodes; returns the locals of the results, one per root. */
  const vector = (k: number): number[] => {
    vec = k;
    at = new Map<Expr, number>();
    for (const e of order) at.set(e, emitNode(e));
    return roots.map((r) => at.get(r)!);
  };
  const advance = (vectors: number): void => {
    for (let j = 0; j < nOut; j++) f.get(OUT(j)).i32c(16 * vectors).op('i32.add').set(OUT(j));
    for (let k = 0; k < nIn; k++) {
      f.get(inPtr(k)).get(inStep(k));
      if (vectors > 1) f.i32c(vectors).op('i32.mul');
      f.op('i32.add').set(inPtr(k));
    }
    f.get(i).i32c(lanes * vectors).op('i32.add').set(i);
  };
  // Up to UNROLL vectors per iteration, their instructions interleaved statement by statement:
  // these loops are bound by the latency of one vector's chain of dependent operations (the
  // out-of-order window holds only a few vectors), so independent chains side by side in the
  // instruction stream run in little more time than one. Then the remaining vectors one at a time.
  const first = v.record(() => vector(0));
  const unroll = unrollFor(first.stmts.reduce((bytes, st) => bytes + st.length, 0), maxUnroll);
  if (unroll > 1) {
    f.block();
    f.loop();
    // A group while its last vector holds an element: `n` counts elements, rounded up to vectors.
    f.get(i).i32c(lanes * (unroll - 1)).op('i32.add').get(N).op('i32.ge_s').brIf(1);
    const groups = [first, ...Array.from({ length: unroll - 1 }, (_, k) => v.record(() => vector(k + 1)))];
    const longest = Math.max(...groups.map((g) => g.stmts.length));
    for (let k = 0; k < longest; k++) for (const g of groups) if (k < g.stmts.length) f.bytes(g.stmts[k]!);
    groups.forEach((g, k) => g.result.forEach((r, j) => f.get(OUT(j)).get(r).vmem('v128.store', 4, 16 * k)));
    advance(unroll);
    f.br(0);
    f.end();
    f.end();
  }
  f.block();
  f.loop();
  f.get(i).get(N).op('i32.ge_s').brIf(1);
  const tail = unroll > 1 ? vector(0) : emitted(first);
  tail.forEach((r, j) => f.get(OUT(j)).get(r).vmem('v128.store', 4));
  advance(1);
  f.br(0);
  f.end();
  f.end();

  return unroll;

  /** Places a recording's statements; returns its result. */
  function emitted(r: { result: number[]; stmts: Uint8Array[] }): number[] {
    for (const st of r.stmts) f.bytes(st);
    return r.result;
  }

  function emitNode(e: Expr): number {
    const arg = (x: Expr): number => at.get(x)!;
    switch (e.op) {
      case 'input':
        return v.val(() => loadInput(e.index));
      case 'param':
        return paramLocal.get(e.index)!;
      case 'const':
        return v.val(() => constV(e.value));
      case 'where':
        return v.select(mask('ne', arg(e.cond), zero), arg(e.a), arg(e.b));
    }
    if ('b' in e) {
      const a = arg(e.a);
      const b = arg(e.b);
      switch (e.op) {
        case 'add': case 'sub': case 'mul': case 'div': case 'max': case 'min':
          return v.op(s(e.op), a, b);
        case 'lt': case 'le': case 'gt': case 'ge': case 'eq': case 'ne':
          return bool(mask(e.op, a, b));
        case 'and':
          return bool(v.op('v128.and', mask('ne', a, zero), mask('ne', b, zero)));
        case 'or':
          return bool(v.op('v128.or', mask('ne', a, zero), mask('ne', b, zero)));
      }
      throw new Error(`${spec.name}: no SIMD form for '${e.op}'`);
    }
    const a = arg(e.a);
    switch (e.op) {
      case 'neg': case 'abs': case 'sqrt': case 'floor': case 'ceil': case 'trunc':
        return v.op(s(e.op), a);
      case 'round':
        return v.op(s('nearest'), a); // ties to even, as PyTorch rounds
      case 'rsqrt':
        return v.op(s('div'), one, v.op(s('sqrt'), a));
      case 'reciprocal':
        return v.op(s('div'), one, a);
      case 'square':
        return v.op(s('mul'), a, a);
      case 'relu':
        // NaN stays NaN (PyTorch); everything not > 0 becomes +0.
        return v.select(v.op('v128.or', mask('gt', a, zero), mask('ne', a, a)), a, zero);
      case 'sign': {
        const pos = v.op('v128.and', mask('gt', a, zero), one);
        const neg = v.op('v128.and', mask('lt', a, zero), v.val(() => constV(-1)));
        const nan = v.op('v128.and', mask('ne', a, a), a);
        return v.op('v128.or', v.op('v128.or', pos, neg), nan);
      }
      case 'not':
        return bool(mask('eq', a, zero));
      case 'isnan':
        return bool(mask('ne', a, a));
      case 'exp':
        return expF32(v, a);
      case 'log':
        return logF32(v, a);
      case 'tanh':
        return tanhF32(v, a);
      case 'sigmoid':
        return sigmoidF32(v, a);
    }
    throw new Error(`${spec.name}: no SIMD form for '${e.op}'`);
  }

  function loadInput(k: number): void {
    const bytes = plan.inputBytes[k]!;
    f.get(inPtr(k));
    if (vec > 0) {
      f.get(inStep(k));
      if (vec > 1) f.i32c(vec).op('i32.mul');
      f.op('i32.add');
    }
    if (bytes !== 1) {
      f.vmem('v128.load', 4);
      return;
    }
    // Bool bytes → integer lanes → floats.
    if (plan.lane === 'f32') f.vmem('v128.load32_zero', 0);
    else f.vmem('v128.load16_splat', 0);
    f.simd('i16x8.extend_low_i8x16_u').simd('i32x4.extend_low_i16x8_u');
    f.simd(plan.lane === 'f32' ? 'f32x4.convert_i32x4_u' : 'f64x2.convert_low_i32x4_u');
  }
}

/** Bytes input `k` advances per vector when dense. */
export function denseStep(plan: WasmPlan, k: number): number {
  return plan.inputBytes[k] === 1 ? (plan.lane === 'f32' ? 4 : 2) : 16;
}
