/**
 * Compiles elementwise expressions (core's `expr/ir.ts`) into WGSL compute shaders.
 *
 * One invocation computes one output element. The body reads each used input once (converted to
 * the compute type), evaluates every node of the DAG once (a shared node becomes one `let`
 * temporary), and stores last, so an input that is the output view itself (in-place) is read
 * before it is overwritten. Two shader variants per op, made on first use:
 * - flat: after collapsing dims, the output and every input are contiguous or a single broadcast
 *   element: offsets are `base + i` (or `base`);
 * - strided: any strides and rank; each invocation walks the dims (read from the meta words) to
 *   find its offset in every operand.
 * An input sharing the output's buffer is read through the output binding (WebGPU forbids binding
 * one buffer as writable and read-only storage in the same dispatch).
 *
 * Values are typed: float mode computes in f32; integer mode (only when core says the op computes
 * in int32/bool) computes in i32 with wrap-around, falling back to f32 for nodes that have no
 * integer meaning (exp, division, ...), as the CPU backend does.
 */
import type { DType, ElementwiseKernel, ElementwiseSpec, Expr } from '@nabla/core';
import type { BindingKind, Dispatcher } from './dispatcher.js';
import { f32Bits, i32Bits, wgslType } from './dtypes.js';
import { collapse, fmtShape, numelOf, sameShape } from './geometry.js';
import { GpuStorage } from './storage.js';
import { entry1d, groupsFor, META_DECL, offsetWalk } from './wgsl/common.js';
import { helperSource } from './wgsl/math.js';
import { ENABLE_F16, f16Root, nativeStorageType } from './native-f16.js';

type Ty = 'f' | 'i';
type Mode = 'float' | 'int';

interface Value {
  readonly code: string;
  readonly ty: Ty;
  /** An f32 spelling when the i32 value came from something with a float form (params, consts). */
  readonly fcode?: string;
}

export interface Body {
  readonly statements: readonly string[];
  readonly result: Value;
  readonly inputs: readonly number[];
  readonly params: readonly number[];
  readonly helpers: ReadonlySet<string>;
}

/** A WGSL f32 expression for `v` (non-finite values through helpers, never a failing const). */
export function floatLiteral(v: number, helpers: Set<string>): string {
  const f = Math.fround(v);
  if (f !== f) {
    helpers.add('nb_nan');
    return 'nb_nan()';
  }
  if (f === Infinity || f === -Infinity) {
    helpers.add('nb_inf');
    return f > 0 ? 'nb_inf()' : '(-nb_inf())';
  }
  if (Object.is(f, -0)) return 'f32(-0.0)';
  let s = String(f);
  if (!/[.e]/.test(s)) s += '.0';
  return `f32(${s})`;
}

const F_UNARY: Record<string, [string, (a: string) => string]> = {
  neg: ['', (a) => `(-${a})`],
  abs: ['', (a) => `abs(${a})`],
  sqrt: ['nb_sqrt', (a) => `nb_sqrt(${a})`],
  rsqrt: ['nb_rsqrt', (a) => `nb_rsqrt(${a})`],
  exp: ['nb_exp', (a) => `nb_exp(${a})`],
  log: ['nb_log', (a) => `nb_log(${a})`],
  log1p: ['nb_log1p', (a) => `nb_log1p(${a})`],
  expm1: ['nb_expm1', (a) => `nb_expm1(${a})`],
  sin: ['nb_sin', (a) => `nb_sin(${a})`],
  cos: ['nb_cos', (a) => `nb_cos(${a})`],
  tan: ['nb_tan', (a) => `nb_tan(${a})`],
  tanh: ['nb_tanh', (a) => `nb_tanh(${a})`],
  sigmoid: ['nb_sigmoid', (a) => `nb_sigmoid(${a})`],
  relu: ['nb_relu', (a) => `nb_relu(${a})`],
  sign: ['nb_sign', (a) => `nb_sign(${a})`],
  reciprocal: ['', (a) => `(1.0 / ${a})`],
  square: ['', (a) => `(${a} * ${a})`],
  floor: ['nb_floor', (a) => `nb_floor(${a})`],
  ceil: ['nb_ceil', (a) => `nb_ceil(${a})`],
  round: ['nb_round', (a) => `nb_round(${a})`],
  trunc: ['nb_trunc', (a) => `nb_trunc(${a})`],
  erf: ['nb_erf', (a) => `nb_erf(${a})`],
  not: ['nb_truthy', (a) => `select(1.0, 0.0, nb_truthy(${a}))`],
  isnan: ['nb_isnan', (a) => `select(0.0, 1.0, nb_isnan(${a}))`],
  atan: ['nb_atan', (a) => `nb_atan(${a})`],
  asin: ['nb_asin', (a) => `nb_asin(${a})`],
  acos: ['nb_acos', (a) => `nb_acos(${a})`],
};

const F_BINARY: Record<string, [string, (a: string, b: string) => string]> = {
  add: ['', (a, b) => `(${a} + ${b})`],
  sub: ['', (a, b) => `(${a} - ${b})`],
  mul: ['', (a, b) => `(${a} * ${b})`],
  div: ['', (a, b) => `(${a} / ${b})`],
  pow: ['nb_pow', (a, b) => `nb_pow(${a}, ${b})`],
  max: ['nb_max', (a, b) => `nb_max(${a}, ${b})`],
  min: ['nb_min', (a, b) => `nb_min(${a}, ${b})`],
  atan2: ['nb_atan2', (a, b) => `nb_atan2(${a}, ${b})`],
  lt: ['nb_lt', (a, b) => `select(0.0, 1.0, nb_lt(${a}, ${b}))`],
  le: ['nb_le', (a, b) => `select(0.0, 1.0, nb_le(${a}, ${b}))`],
  gt: ['nb_lt', (a, b) => `select(0.0, 1.0, nb_lt(${b}, ${a}))`],
  ge: ['nb_le', (a, b) => `select(0.0, 1.0, nb_le(${b}, ${a}))`],
  eq: ['nb_eq', (a, b) => `select(0.0, 1.0, nb_eq(${a}, ${b}))`],
  ne: ['nb_eq', (a, b) => `select(1.0, 0.0, nb_eq(${a}, ${b}))`],
  and: ['nb_truthy', (a, b) => `select(0.0, 1.0, nb_truthy(${a}) && nb_truthy(${b}))`],
  or: ['nb_truthy', (a, b) => `select(0.0, 1.0, nb_truthy(${a}) || nb_truthy(${b}))`],
};

/** i32 arithmetic wraps in WGSL, like the int32 result it is stored as. */
const I_UNARY: Record<string, [string, (a: string) => string]> = {
  neg: ['', (a) => `(-${a})`],
  abs: ['', (a) => `abs(${a})`],
  square: ['', (a) => `(${a} * ${a})`],
  relu: ['', (a) => `max(${a}, 0)`],
  sign: ['', (a) => `sign(${a})`],
  floor: ['', (a) => a],
  ceil: ['', (a) => a],
  round: ['', (a) => a],
  trunc: ['', (a) => a],
  not: ['', (a) => `select(0, 1, ${a} == 0)`],
  isnan: ['', () => `0`],
};

const I_BINARY: Record<string, [string, (a: string, b: string) => string]> = {
  add: ['', (a, b) => `(${a} + ${b})`],
  sub: ['', (a, b) => `(${a} - ${b})`],
  mul: ['', (a, b) => `(${a} * ${b})`],
  pow: ['nb_ipow', (a, b) => `nb_ipow(${a}, ${b})`],
  max: ['', (a, b) => `max(${a}, ${b})`],
  min: ['', (a, b) => `min(${a}, ${b})`],
  lt: ['', (a, b) => `select(0, 1, ${a} < ${b})`],
  le: ['', (a, b) => `select(0, 1, ${a} <= ${b})`],
  gt: ['', (a, b) => `select(0, 1, ${a} > ${b})`],
  ge: ['', (a, b) => `select(0, 1, ${a} >= ${b})`],
  eq: ['', (a, b) => `select(0, 1, ${a} == ${b})`],
  ne: ['', (a, b) => `select(0, 1, ${a} != ${b})`],
  and: ['', (a, b) => `select(0, 1, ${a} != 0 && ${b} != 0)`],
  or: ['', (a, b) => `select(0, 1, ${a} != 0 || ${b} != 0)`],
};

function toF(v: Value): string {
  return v.ty === 'f' ? v.code : (v.fcode ?? `f32(${v.code})`);
}

function children(e: Expr): Expr[] {
  if (e.op === 'input' || e.op === 'param' || e.op === 'const') return [];
  if (e.op === 'where') return [e.cond, e.a, e.b];
  return 'b' in e ? [e.a, e.b] : [e.a];
}

/** Emits one `let t<k>` per distinct node object (CSE by identity), children first. */
export function generateBody(expr: Expr, mode: Mode, name = 'expr'): Body {
  const values = new Map<Expr, Value>();
  const lines: string[] = [];
  const inputs = new Set<number>();
  const params = new Set<number>();
  const helpers = new Set<string>();
  // Iterative post-order: deep expression chains must not overflow the JS stack.
  const stack: { e: Expr; visited: boolean }[] = [{ e: expr, visited: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (values.has(top.e)) {
      stack.pop();
      continue;
    }
    if (!top.visited) {
      top.visited = true;
      for (const c of children(top.e)) if (!values.has(c)) stack.push({ e: c, visited: false });
      continue;
    }
    stack.pop();
    values.set(top.e, emit(top.e));
  }
  return {
    statements: lines,
    result: values.get(expr)!,
    inputs: [...inputs].sort((a, b) => a - b),
    params: [...params].sort((a, b) => a - b),
    helpers,
  };

  function temp(code: string, ty: Ty): Value {
    const t = `t${lines.length}`;
    lines.push(`let ${t} = ${code};`);
    return { code: t, ty };
  }

  function emit(e: Expr): Value {
    const ty: Ty = mode === 'int' ? 'i' : 'f';
    switch (e.op) {
      case 'input':
        if (!Number.isInteger(e.index) || e.index < 0) throw new Error(`${name}: bad input index ${e.index}`);
        inputs.add(e.index);
        return { code: `x${e.index}`, ty };
      case 'param':
        if (!Number.isInteger(e.index) || e.index < 0) throw new Error(`${name}: bad param index ${e.index}`);
        params.add(e.index);
        return ty === 'i' ? { code: `pi${e.index}`, ty, fcode: `pf${e.index}` } : { code: `pf${e.index}`, ty };
      case 'const': {
        const v = e.value;
        const f = floatLiteral(v, helpers);
        if (ty === 'i' && Number.isInteger(v) && v >= -2147483647 && v <= 2147483647) return { code: `i32(${v})`, ty, fcode: f };
        return { code: f, ty: 'f' };
      }
      case 'where': {
        const c = values.get(e.cond)!;
        const a = values.get(e.a)!;
        const b = values.get(e.b)!;
        let cond: string;
        if (c.ty === 'i') cond = `(${c.code} != 0)`;
        else {
          helpers.add('nb_truthy');
          cond = `nb_truthy(${c.code})`;
        }
        if (a.ty === b.ty) return temp(`select(${b.code}, ${a.code}, ${cond})`, a.ty);
        return temp(`select(${toF(b)}, ${toF(a)}, ${cond})`, 'f');
      }
      default: {
        if ('b' in e) {
          const a = values.get(e.a)!;
          const b = values.get(e.b)!;
          const intOp = I_BINARY[e.op];
          if (a.ty === 'i' && b.ty === 'i' && intOp) {
            if (intOp[0]) helpers.add(intOp[0]);
            return temp(intOp[1](a.code, b.code), 'i');
          }
          const f = F_BINARY[e.op];
          if (!f) throw new Error(`${name}: unknown binary op '${e.op}' in expression`);
          if (f[0]) helpers.add(f[0]);
          return temp(f[1](toF(a), toF(b)), 'f');
        }
        const op = (e as { op: string }).op;
        const a = values.get((e as { a: Expr }).a)!;
        const intOp = I_UNARY[op];
        if (a.ty === 'i' && intOp) {
          if (intOp[0]) helpers.add(intOp[0]);
          return temp(intOp[1](a.code), 'i');
        }
        const f = F_UNARY[op];
        if (!f) throw new Error(`${name}: unknown op '${op}' in expression`);
        if (f[0]) helpers.add(f[0]);
        return temp(f[1](toF(a)), 'f');
      }
    }
  }
}

/** Integer arithmetic only when core says the expression computes in int32/bool. */
function computeMode(spec: ElementwiseSpec): Mode {
  return spec.computeDtype === 'int32' || spec.computeDtype === 'bool' ? 'int' : 'float';
}

/** The store of value `v` into an output of `dtype` (int32: truncate and wrap; bool: != 0). */
function storeExpr(v: Value, dtype: DType, helpers: Set<string>): string {
  if (dtype === 'float32') return toF(v);
  // Native f16 only: one rounding of the f32 result (round to nearest even).
  if (dtype === 'float16') return `f16(${toF(v)})`;
  if (dtype === 'int32') {
    if (v.ty === 'i') return v.code;
    helpers.add('nb_f2i');
    return `nb_f2i(${v.code})`;
  }
  if (v.ty === 'i') return `select(0u, 1u, ${v.code} != 0)`;
  helpers.add('nb_truthy');
  return `select(0u, 1u, nb_truthy(${v.code}))`;
}

/** Reads a stored element into the compute type. */
function loadExpr(raw: string, dtype: DType, mode: Mode): string {
  const t = dtype === 'float16' ? 'f16' : wgslType(dtype);
  if (mode === 'int') return t === 'i32' ? raw : `i32(${raw})`;
  return t === 'f32' ? raw : `f32(${raw})`;
}

/** Layout of the meta words (all positions in words). */
interface MetaLayout {
  /** operand j's offset (j = 0: out, then the used inputs in order). */
  readonly offsetAt: number;
  readonly paramF: number;
  readonly paramI: number;
  readonly shapeAt: number;
}

function metaLayout(numOperands: number, numParams: number): MetaLayout {
  const offsetAt = 2;
  const paramF = offsetAt + numOperands;
  const paramI = paramF + numParams;
  return { offsetAt, paramF, paramI, shapeAt: paramI + numParams };
}

/**
 * The WGSL source of one variant. `scalarMask` (flat variant only) has bit j set when used input j
 * is a single broadcast element; `aliasMask` bit j when used input j lives in the output buffer.
 */
export function elementwiseSource(
  spec: ElementwiseSpec,
  body: Body,
  variant: { flat: boolean; scalarMask: number; aliasMask: number },
  native16 = false,
): string {
  const mode = computeMode(spec);
  const helpers = new Set(body.helpers);
  const used = body.inputs;
  const L = metaLayout(1 + used.length, spec.numParams);
  const ty = native16 ? nativeStorageType : wgslType;
  const decls: string[] = [META_DECL, `@group(0) @binding(1) var<storage, read_write> out: array<${ty(spec.outDtype)}>;`];
  let binding = 2;
  used.forEach((inp, j) => {
    if (variant.aliasMask & (1 << j)) return;
    decls.push(`@group(0) @binding(${binding++}) var<storage, read> in${inp}: array<${ty(spec.inputDtypes[inp]!)}>;`);
  });
  const root = native16 ? f16Root(spec) : null;

  const lines: string[] = [`  if (gid >= args[0]) { return; }`];
  if (variant.flat) {
    lines.push(`  let oo = args[${L.offsetAt}u] + gid;`);
    used.forEach((inp, j) => {
      const scalar = variant.scalarMask & (1 << j);
      lines.push(`  let o${inp} = args[${L.offsetAt + 1 + j}u]${scalar ? '' : ' + gid'};`);
    });
  } else {
    const operands = [{ name: 'oo', init: `args[${L.offsetAt}u]`, stridesAt: `${L.shapeAt}u + args[1]` }].concat(
      used.map((inp, j) => ({ name: `o${inp}`, init: `args[${L.offsetAt + 1 + j}u]`, stridesAt: `${L.shapeAt}u + args[1] * ${j + 2}u` })),
    );
    lines.push(offsetWalk('gid', 'args[1]', `${L.shapeAt}u`, operands));
  }
  if (root !== null) {
    // One f16 operation on the raw loads (native-f16.ts): f16 values, bool words as u32.
    used.forEach((inp, j) => {
      const src = variant.aliasMask & (1 << j) ? 'out' : `in${inp}`;
      lines.push(`  let ${spec.inputDtypes[inp] === 'bool' ? 'c' : 'h'}${inp} = ${src}[o${inp}];`);
    });
    lines.push(`  out[oo] = ${root.code};`);
    const header = `// ${kernelName(spec)}${variant.flat ? ' (flat)' : ' (strided)'}, f16 arithmetic`;
    return [ENABLE_F16, header, ...decls, entry1d(lines.join('\n'))].join('\n');
  }
  used.forEach((inp, j) => {
    const src = variant.aliasMask & (1 << j) ? 'out' : `in${inp}`;
    lines.push(`  let x${inp} = ${loadExpr(`${src}[o${inp}]`, spec.inputDtypes[inp]!, mode)};`);
  });
  for (const p of body.params) {
    lines.push(`  let pf${p} = bitcast<f32>(args[${L.paramF + p}u]);`);
    if (mode === 'int') lines.push(`  let pi${p} = bitcast<i32>(args[${L.paramI + p}u]);`);
  }
  for (const s of body.statements) lines.push(`  ${s}`);
  lines.push(`  out[oo] = ${storeExpr(body.result, spec.outDtype, helpers)};`);
  const header = `// ${kernelName(spec)}${variant.flat ? ' (flat)' : ' (strided)'}${native16 ? ', f16 storage, f32 arithmetic' : ''}`;
  return [...(native16 ? [ENABLE_F16] : []), header, ...decls, helperSource(helpers), entry1d(lines.join('\n'))].join('\n');
}

function kernelName(spec: ElementwiseSpec): string {
  return `elementwise '${spec.name}' (${spec.inputDtypes.join(', ')} -> ${spec.outDtype})`;
}

function storageOf(name: string, what: string, s: unknown): GpuStorage {
  if (!(s instanceof GpuStorage)) throw new Error(`${name}: ${what} is not a webgpu storage`);
  if (s.released) throw new Error(`${name}: ${what} uses a storage that was already released`);
  return s;
}

/**
 * Compiles `spec` into a kernel that records dispatches on `dispatcher`. `native16`: float16
 * operands are `array<f16>` bindings (the device has `shader-f16`; see native-f16.ts).
 */
export function compileElementwise(spec: ElementwiseSpec, dispatcher: Dispatcher, maxInputBuffers = 6, native16 = false): ElementwiseKernel {
  const mode = computeMode(spec);
  const body = generateBody(spec.expr, mode, spec.name);
  const nIn = spec.inputDtypes.length;
  for (const i of body.inputs) {
    if (i >= nIn) throw new Error(`${spec.name}: expression reads input ${i} but the op has ${nIn} inputs`);
  }
  for (const i of body.params) {
    if (i >= spec.numParams) throw new Error(`${spec.name}: expression reads param ${i} but the op has ${spec.numParams} params`);
  }
  if (body.inputs.length > maxInputBuffers) {
    throw new Error(`${spec.name}: ${body.inputs.length} inputs exceed the ${maxInputBuffers} storage buffers a kernel may bind on this device`);
  }
  for (const d of [...spec.inputDtypes, spec.outDtype]) (native16 ? nativeStorageType : wgslType)(d);
  const name = kernelName(spec);
  const used = body.inputs;
  const L = metaLayout(1 + used.length, spec.numParams);

  return (out, inputs, params) => {
    if (inputs.length !== nIn) throw new Error(`${spec.name}: expected ${nIn} inputs, got ${inputs.length}`);
    if (params.length < spec.numParams) throw new Error(`${spec.name}: expected ${spec.numParams} params, got ${params.length}`);
    const shape = out.shape;
    for (let i = 0; i < nIn; i++) {
      if (!sameShape(inputs[i]!.shape, shape)) {
        throw new Error(`${spec.name}: input ${i} has shape ${fmtShape(inputs[i]!.shape)}, expected the output's ${fmtShape(shape)}`);
      }
    }
    const n = numelOf(shape);
    if (n === 0) return;
    const os = storageOf(spec.name, 'out', out.storage);
    const buffers: GPUBuffer[] = [os.buffer];
    const bindings: BindingKind[] = ['write'];
    let aliasMask = 0;
    const strides: (readonly number[])[] = [out.strides];
    used.forEach((inp, j) => {
      const v = inputs[inp]!;
      const s = storageOf(spec.name, `input ${inp}`, v.storage);
      strides.push(v.strides);
      if (s.buffer === os.buffer) aliasMask |= 1 << j;
      else {
        buffers.push(s.buffer);
        bindings.push('read');
      }
    });
    const g = collapse(shape, strides);
    let flat = g.shape.length === 1 && g.strides[0]![0] === 1;
    let scalarMask = 0;
    for (let j = 0; flat && j < used.length; j++) {
      const s = g.strides[j + 1]![0]!;
      if (s === 0) scalarMask |= 1 << j;
      else if (s !== 1) flat = false;
    }
    if (!flat) scalarMask = 0;
    const variant = { flat, scalarMask, aliasMask };
    const key = `${spec.key}#${flat ? `f${scalarMask}` : 's'}#a${aliasMask}`;
    const kernel = dispatcher.kernel(key, name, () => elementwiseSource(spec, body, variant, native16), bindings);

    const rank = g.shape.length;
    const words: number[] = new Array(L.shapeAt + rank * (2 + used.length));
    words[0] = n;
    words[1] = rank;
    words[L.offsetAt] = out.offset;
    used.forEach((inp, j) => (words[L.offsetAt + 1 + j] = inputs[inp]!.offset));
    for (let p = 0; p < spec.numParams; p++) {
      words[L.paramF + p] = f32Bits(params[p]!);
      words[L.paramI + p] = i32Bits(params[p]!);
    }
    let w = L.shapeAt;
    for (const d of g.shape) words[w++] = d;
    for (const s of g.strides) for (const d of s) words[w++] = d;
    dispatcher.dispatch(kernel, words, buffers, groupsFor(n));
  };
}
