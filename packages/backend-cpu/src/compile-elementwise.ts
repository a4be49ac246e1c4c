/**
 * Compiles elementwise expressions (core's `expr/ir.ts`) into JavaScript loops with
 * `new Function`, so each op runs as one tight, monomorphic loop instead of interpreting a tree
 * per element.
 *
 * A compiled kernel has two loop shapes, generated on first use:
 * - flat: `out` and every input are row-major contiguous, or an input is a single broadcast
 *   element (hoisted out of the loop); one counter walks everything;
 * - strided: any strides; dims are reordered to the output's memory order and collapsed, and the
 *   innermost dim runs as a tight loop with one pointer per operand.
 * The loop body reads each used input once, evaluates every node once (shared nodes of the DAG
 * become `const` temporaries), and stores last, so an input that is the output view itself
 * (in-place) is read before it is overwritten.
 */
import type { DType, ElementwiseKernel, ElementwiseSpec, Expr, TypedArray, View } from '@nabla/core';
import { collapse, fmtShape, isContiguous, isScalarLike, numelOf, orderByStrides, sameShape } from './strided.js';
import { dataOf } from './storage.js';
import { erf, ipow, pow, roundHalfEven, sigmoid } from './scalar-math.js';

const HELPERS = { erf, ipow, pow, roundHalfEven, sigmoid };
const HELPER_PRELUDE = `const { ${Object.keys(HELPERS).join(', ')} } = H;\n`;

type Mode = 'float' | 'int';

/** The generated loop body: statements computing `result` from inputs `x<i>` and params `p<i>`. */
interface Body {
  readonly statements: string;
  readonly result: string;
  readonly inputs: readonly number[];
  readonly params: readonly number[];
}

function literal(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  if (Object.is(v, -0)) return '(-0)';
  return v < 0 ? `(${v})` : String(v);
}

/** Float compute; values are JS doubles. Comparisons and logic give 0/1; NaN is truthy. */
const FLOAT_UNARY: Record<string, (a: string) => string> = {
  neg: (a) => `(-${a})`,
  abs: (a) => `Math.abs(${a})`,
  sqrt: (a) => `Math.sqrt(${a})`,
  rsqrt: (a) => `(1 / Math.sqrt(${a}))`,
  exp: (a) => `Math.exp(${a})`,
  log: (a) => `Math.log(${a})`,
  log1p: (a) => `Math.log1p(${a})`,
  expm1: (a) => `Math.expm1(${a})`,
  sin: (a) => `Math.sin(${a})`,
  cos: (a) => `Math.cos(${a})`,
  tan: (a) => `Math.tan(${a})`,
  tanh: (a) => `Math.tanh(${a})`,
  atan: (a) => `Math.atan(${a})`,
  asin: (a) => `Math.asin(${a})`,
  acos: (a) => `Math.acos(${a})`,
  sigmoid: (a) => `sigmoid(${a})`,
  // NaN fails both tests and falls through unchanged (PyTorch: relu(NaN) = NaN, sign(NaN) = NaN).
  relu: (a) => `(${a} > 0 ? ${a} : ${a} === ${a} ? 0 : ${a})`,
  sign: (a) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : ${a} === ${a} ? 0 : ${a})`,
  reciprocal: (a) => `(1 / ${a})`,
  square: (a) => `(${a} * ${a})`,
  floor: (a) => `Math.floor(${a})`,
  ceil: (a) => `Math.ceil(${a})`,
  round: (a) => `roundHalfEven(${a})`,
  trunc: (a) => `Math.trunc(${a})`,
  erf: (a) => `erf(${a})`,
  not: (a) => `(${a} === 0 ? 1 : 0)`,
  isnan: (a) => `(${a} !== ${a} ? 1 : 0)`,
};

const FLOAT_BINARY: Record<string, (a: string, b: string) => string> = {
  add: (a, b) => `(${a} + ${b})`,
  sub: (a, b) => `(${a} - ${b})`,
  mul: (a, b) => `(${a} * ${b})`,
  div: (a, b) => `(${a} / ${b})`,
  pow: (a, b) => `pow(${a}, ${b})`,
  // Math.max/min already return NaN when either side is NaN (PyTorch's maximum/minimum).
  max: (a, b) => `Math.max(${a}, ${b})`,
  min: (a, b) => `Math.min(${a}, ${b})`,
  atan2: (a, b) => `Math.atan2(${a}, ${b})`,
  lt: (a, b) => `(${a} < ${b} ? 1 : 0)`,
  le: (a, b) => `(${a} <= ${b} ? 1 : 0)`,
  gt: (a, b) => `(${a} > ${b} ? 1 : 0)`,
  ge: (a, b) => `(${a} >= ${b} ? 1 : 0)`,
  eq: (a, b) => `(${a} === ${b} ? 1 : 0)`,
  ne: (a, b) => `(${a} !== ${b} ? 1 : 0)`,
  and: (a, b) => `(${a} !== 0 && ${b} !== 0 ? 1 : 0)`,
  or: (a, b) => `(${a} !== 0 || ${b} !== 0 ? 1 : 0)`,
};

/**
 * Integer compute (every operand int32/bool): int32 arithmetic that wraps like the stored result
 * would, so intermediate overflow matches a true int32 evaluation. Ops not listed (division,
 * transcendental functions) never get here from core's promotion and fall back to float.
 */
const INT_UNARY: Record<string, (a: string) => string> = {
  neg: (a) => `((-${a}) | 0)`,
  abs: (a) => `(Math.abs(${a}) | 0)`,
  square: (a) => `Math.imul(${a}, ${a})`,
  relu: (a) => `(${a} > 0 ? ${a} : 0)`,
  sign: (a) => `(${a} > 0 ? 1 : ${a} < 0 ? -1 : 0)`,
  floor: (a) => a,
  ceil: (a) => a,
  round: (a) => a,
  trunc: (a) => a,
};

const INT_BINARY: Record<string, (a: string, b: string) => string> = {
  add: (a, b) => `((${a} + ${b}) | 0)`,
  sub: (a, b) => `((${a} - ${b}) | 0)`,
  mul: (a, b) => `Math.imul(${a}, ${b})`,
  pow: (a, b) => `ipow(${a}, ${b})`,
};

function unaryCode(mode: Mode, op: string): ((a: string) => string) | undefined {
  return (mode === 'int' ? INT_UNARY[op] : undefined) ?? FLOAT_UNARY[op];
}

function binaryCode(mode: Mode, op: string): ((a: string, b: string) => string) | undefined {
  return (mode === 'int' ? INT_BINARY[op] : undefined) ?? FLOAT_BINARY[op];
}

/** Emits one `const t<k>` per distinct node object (CSE by identity), children first. */
export function generateBody(expr: Expr, mode: Mode, name = 'expr'): Body {
  const b = generateBodies([expr], mode, name);
  return { statements: b.statements, result: b.results[0]!, inputs: b.inputs, params: b.params };
}

/** `generateBody` of several roots at once: nodes they share are evaluated once. */
export function generateBodies(roots: readonly Expr[], mode: Mode, name = 'expr'): Omit<Body, 'result'> & { results: string[] } {
  const names = new Map<Expr, string>();
  const lines: string[] = [];
  const inputs = new Set<number>();
  const params = new Set<number>();
  // Iterative post-order: deep expression chains must not overflow the JS stack.
  const stack: { e: Expr; visited: boolean }[] = [];
  for (let r = roots.length - 1; r >= 0; r--) stack.push({ e: roots[r]!, visited: false });
  const children = (e: Expr): Expr[] => {
    if (e.op === 'input' || e.op === 'param' || e.op === 'const') return [];
    if (e.op === 'where') return [e.cond, e.a, e.b];
    return 'b' in e ? [e.a, e.b] : [e.a];
  };
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const e = top.e;
    if (names.has(e)) {
      stack.pop();
      continue;
    }
    if (!top.visited) {
      top.visited = true;
      for (const c of children(e)) if (!names.has(c)) stack.push({ e: c, visited: false });
      continue;
    }
    stack.pop();
    names.set(e, emit(e));
  }
  return { statements: lines.join('\n'), results: roots.map((r) => names.get(r)!), inputs: [...inputs].sort((a, b) => a - b), params: [...params].sort((a, b) => a - b) };

  function emit(e: Expr): string {
    switch (e.op) {
      case 'input':
        if (!Number.isInteger(e.index) || e.index < 0) throw new Error(`${name}: bad input index ${e.index}`);
        inputs.add(e.index);
        return `x${e.index}`;
      case 'param':
        if (!Number.isInteger(e.index) || e.index < 0) throw new Error(`${name}: bad param index ${e.index}`);
        params.add(e.index);
        return `p${e.index}`;
      case 'const':
        return literal(e.value);
      case 'where': {
        const t = `t${lines.length}`;
        lines.push(`const ${t} = (${names.get(e.cond)!} !== 0 ? ${names.get(e.a)!} : ${names.get(e.b)!});`);
        return t;
      }
      default: {
        const t = `t${lines.length}`;
        if ('b' in e) {
          const f = binaryCode(mode, e.op);
          if (f === undefined) throw new Error(`${name}: unknown binary op '${e.op}' in expression`);
          lines.push(`const ${t} = ${f(names.get(e.a)!, names.get(e.b)!)};`);
        } else {
          const f = unaryCode(mode, e.op);
          if (f === undefined) throw new Error(`${name}: unknown op '${(e as { op: string }).op}' in expression`);
          lines.push(`const ${t} = ${f(names.get(e.a)!)};`);
        }
        return t;
      }
    }
  }
}

function storeCode(outDtype: DType, target: string, value: string): string {
  // Int32Array stores apply ToInt32: truncation toward zero, wrap-around, NaN/±inf → 0, which is
  // exactly the IR's int32 store. Uint8Array would wrap, so bool stores are spelled out.
  if (outDtype === 'bool') return `${target} = ${value} !== 0 ? 1 : 0;`;
  return `${target} = ${value};`;
}

type FlatFn = (n: number, O: TypedArray, o: number, D: readonly TypedArray[], offs: readonly number[], P: readonly number[]) => void;
type StridedFn = (
  shape: readonly number[],
  O: TypedArray,
  o: number,
  os: readonly number[],
  D: readonly TypedArray[],
  offs: readonly number[],
  S: readonly (readonly number[])[],
  P: readonly number[],
) => void;

export function build<F>(name: string, source: string, opName = name): F {
  const cleaned = name.replace(/[^A-Za-z0-9_]/g, '_');
  const safe = /^[0-9]/.test(cleaned) ? `k_${cleaned}` : cleaned;
  // The name shows up in profiles and stack traces. `N` is the op's name, for dataOf's errors.
  const factory = new Function('H', 'dataOf', 'N', `${HELPER_PRELUDE}return function ${safe}(${source}`) as (h: typeof HELPERS, d: typeof dataOf, n: string) => F;
  return factory(HELPERS, dataOf, opName);
}

export function paramPrelude(body: Pick<Body, 'params'>): string {
  return body.params.map((i) => `const p${i} = P[${i}];`).join('\n');
}

/** `scalarMask` bit i: input i is one broadcast element, read once before the loop. */
function genFlat(spec: ElementwiseSpec, body: Body, scalarMask: number): FlatFn {
  const pre: string[] = [paramPrelude(body)];
  const reads: string[] = [];
  for (const i of body.inputs) {
    pre.push(`const A${i} = D[${i}], a${i} = offs[${i}];`);
    if (scalarMask & (1 << i)) pre.push(`const x${i} = A${i}[a${i}];`);
    else reads.push(`const x${i} = A${i}[a${i} + i];`);
  }
  const src = `n, O, o, D, offs, P) {
${pre.join('\n')}
for (let i = 0; i < n; i++) {
${reads.join('\n')}
${body.statements}
${storeCode(spec.outDtype, 'O[o + i]', body.result)}
}
}`;
  return build<FlatFn>(`${spec.name}_flat`, src);
}

type ScalarFn = (O: TypedArray, o: number, V: readonly View[], P: readonly number[]) => void;

/**
 * The 0-d form: one element, no loop, no per-call arrays of data and offsets. A scalar graph runs
 * every op through it. It must compute what `genFlat` computes for n = 1 (same body and store);
 * the caller takes it only when every input is 0-d too, so the inputs' checks are `dataOf`'s.
 */
function genScalar(spec: ElementwiseSpec, body: Body): ScalarFn {
  const reads = body.inputs.map((i) => `const v${i} = V[${i}], x${i} = dataOf(N, ${i}, v${i})[v${i}.offset];`);
  const src = `O, o, V, P) {
${paramPrelude(body)}
${reads.join('\n')}
${body.statements}
${storeCode(spec.outDtype, 'O[o]', body.result)}
}`;
  return build<ScalarFn>(`${spec.name}_scalar`, src, spec.name);
}

function genStrided(spec: ElementwiseSpec, body: Body): StridedFn {
  const src = `shape, O, o, os, D, offs, S, P) {
${paramPrelude(body)}
${stridedLoop(body.inputs, body.statements, storeCode(spec.outDtype, 'O[op]', body.result))}
}`;
  return build<StridedFn>(`${spec.name}_strided`, src);
}

/**
 * A strided kernel's loop (shared with the pair kernels): walks `shape` in row-major order, the
 * output index `op` by the strides `os` and input i's index `q<i>` by `S<i>`, running
 * `statements` and then `store` per element. Expects `shape, o, os, D, offs, S` in scope.
 */
export function stridedLoop(inputs: readonly number[], statements: string, store: string): string {
  const each = (f: (i: number) => string, sep = '\n'): string => inputs.map(f).join(sep);
  return `const rank = shape.length, last = rank - 1, inner = shape[last];
const osI = os[last];
${each((i) => `const A${i} = D[${i}], S${i} = S[${i}], s${i}I = S${i}[last];`)}
let outer = 1;
for (let d = 0; d < last; d++) outer *= shape[d];
const idx = new Int32Array(rank);
let ob = o;
${each((i) => `let b${i} = offs[${i}];`)}
for (let r = 0; r < outer; r++) {
  let op = ob;
  ${each((i) => `let q${i} = b${i};`)}
  for (let j = 0; j < inner; j++) {
    ${each((i) => `const x${i} = A${i}[q${i}];`)}
    ${statements}
    ${store}
    op += osI;
    ${each((i) => `q${i} += s${i}I;`, ' ')}
  }
  for (let d = last - 1; d >= 0; d--) {
    ob += os[d];
    ${each((i) => `b${i} += S${i}[d];`, ' ')}
    if (++idx[d] < shape[d]) break;
    idx[d] = 0;
    ob -= os[d] * shape[d];
    ${each((i) => `b${i} -= S${i}[d] * shape[d];`, ' ')}
  }
}`;
}

/** Integer arithmetic only when core says the expression computes in int32/bool. */
function computeMode(spec: ElementwiseSpec): Mode {
  return spec.computeDtype === 'int32' || spec.computeDtype === 'bool' ? 'int' : 'float';
}

/**
 * Refuses an expression that reads an input or param the op does not have (shared with the pair
 * kernels); returns the op's input count.
 */
export function checkReads(spec: { readonly name: string; readonly inputDtypes: readonly unknown[]; readonly numParams: number }, body: { readonly inputs: readonly number[]; readonly params: readonly number[] }): number {
  const nIn = spec.inputDtypes.length;
  for (const i of body.inputs) {
    if (i >= nIn) throw new Error(`${spec.name}: expression reads input ${i} but the op has ${nIn} inputs`);
  }
  for (const i of body.params) {
    if (i >= spec.numParams) throw new Error(`${spec.name}: expression reads param ${i} but the op has ${spec.numParams} params`);
  }
  return nIn;
}

/** Compiles `spec` into a kernel (uncached; see `ElementwiseCompiler`). */
export function compileElementwise(spec: ElementwiseSpec): ElementwiseKernel {
  const body = generateBody(spec.expr, computeMode(spec), spec.name);
  const nIn = checkReads(spec, body);
  const flat = new Map<number, FlatFn>();
  let strided: StridedFn | undefined;
  let scalar: ScalarFn | undefined;

  return (out, inputs, params) => {
    if (inputs.length !== nIn) throw new Error(`${spec.name}: expected ${nIn} inputs, got ${inputs.length}`);
    if (params.length < spec.numParams) throw new Error(`${spec.name}: expected ${spec.numParams} params, got ${params.length}`);
    const shape = out.shape;
    if (shape.length === 0 && allScalar(inputs)) {
      scalar ??= genScalar(spec, body);
      scalar(dataOf(spec.name, 'out', out), out.offset, inputs, params);
      return;
    }
    const n = numelOf(shape);
    if (n === 0) return;
    const O = dataOf(spec.name, 'out', out);
    const D = new Array<TypedArray>(nIn);
    const offs = new Array<number>(nIn);
    let contiguous = isContiguous(shape, out.strides);
    let mask = 0;
    for (let i = 0; i < nIn; i++) {
      const v = inputs[i]!;
      if (!sameShape(v.shape, shape)) {
        throw new Error(`${spec.name}: input ${i} has shape ${fmtShape(v.shape)}, expected the output's ${fmtShape(shape)}`);
      }
      D[i] = dataOf(spec.name, i, v);
      offs[i] = v.offset;
      if (!contiguous) continue;
      if (isScalarLike(v.shape, v.strides)) mask |= 1 << i;
      else if (!isContiguous(v.shape, v.strides)) contiguous = false;
    }
    if (contiguous && nIn <= 30) {
      let f = flat.get(mask);
      if (f === undefined) {
        f = genFlat(spec, body, mask);
        flat.set(mask, f);
      }
      f(n, O, out.offset, D, offs, params);
      return;
    }
    const strides: (readonly number[])[] = [out.strides];
    for (const v of inputs) strides.push(v.strides);
    const ordered = orderByStrides(shape, strides, 0);
    const g = collapse(ordered.shape, ordered.strides);
    strided ??= genStrided(spec, body);
    strided(g.shape, O, out.offset, g.strides[0]!, D, offs, g.strides.slice(1), params);
  };
}

function allScalar(inputs: readonly View[]): boolean {
  for (let i = 0; i < inputs.length; i++) if (inputs[i]!.shape.length !== 0) return false;
  return true;
}

/** Caches compiled kernels by `spec.key`: each op compiles once per dtype combination. */
export class ElementwiseCompiler {
  private readonly cache = new Map<string, ElementwiseKernel>();

  compile(spec: ElementwiseSpec): ElementwiseKernel {
    let k = this.cache.get(spec.key);
    if (k === undefined) {
      k = compileElementwise(spec);
      this.cache.set(spec.key, k);
    }
    return k;
  }

  get size(): number {
    return this.cache.size;
  }
}
