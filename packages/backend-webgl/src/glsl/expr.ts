/**
 * Core's elementwise expressions (`expr/ir.ts`) compiled to one GLSL function, called from a
 * gpu.js kernel as a native function: `float nb_k(float v0, ..., float q0, ..., float z)`.
 *
 * Everything computes in float32: int32 and bool values live in float textures (int32 exact up
 * to 2^24), so integer arithmetic is float arithmetic on integers — exact while results stay
 * below 2^24 in magnitude. The result is converted to the output dtype on the way out (int32
 * truncates toward zero, bool is `value != 0`).
 */
import { isBinary, isUnary, type DType, type Expr } from '@nabla/core';
import { helperSource } from './math.js';

const UNARY: Record<string, [string, (a: string) => string]> = {
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
  not: ['nb_truthy', (a) => `(nb_truthy(${a}) ? 0.0 : 1.0)`],
  isnan: ['nb_isnan', (a) => `(nb_isnan(${a}) ? 1.0 : 0.0)`],
  atan: ['nb_atan', (a) => `nb_atan(${a})`],
  asin: ['nb_asin', (a) => `nb_asin(${a})`],
  acos: ['nb_acos', (a) => `nb_acos(${a})`],
};

const BINARY: Record<string, [string, (a: string, b: string) => string]> = {
  add: ['', (a, b) => `(${a} + ${b})`],
  sub: ['', (a, b) => `(${a} - ${b})`],
  mul: ['', (a, b) => `(${a} * ${b})`],
  div: ['', (a, b) => `(${a} / ${b})`],
  pow: ['nb_pow', (a, b) => `nb_pow(${a}, ${b})`],
  max: ['nb_max', (a, b) => `nb_max(${a}, ${b})`],
  min: ['nb_min', (a, b) => `nb_min(${a}, ${b})`],
  atan2: ['nb_atan2', (a, b) => `nb_atan2(${a}, ${b})`],
  lt: ['nb_lt', (a, b) => `(nb_lt(${a}, ${b}) ? 1.0 : 0.0)`],
  le: ['nb_le', (a, b) => `(nb_le(${a}, ${b}) ? 1.0 : 0.0)`],
  gt: ['nb_lt', (a, b) => `(nb_lt(${b}, ${a}) ? 1.0 : 0.0)`],
  ge: ['nb_le', (a, b) => `(nb_le(${b}, ${a}) ? 1.0 : 0.0)`],
  eq: ['nb_eq', (a, b) => `(nb_eq(${a}, ${b}) ? 1.0 : 0.0)`],
  ne: ['nb_eq', (a, b) => `(nb_eq(${a}, ${b}) ? 0.0 : 1.0)`],
  and: ['nb_truthy', (a, b) => `((nb_truthy(${a}) && nb_truthy(${b})) ? 1.0 : 0.0)`],
  or: ['nb_truthy', (a, b) => `((nb_truthy(${a}) || nb_truthy(${b})) ? 1.0 : 0.0)`],
};

/** A GLSL float expression for `v`; NaN and ±inf through helpers (run-time values). */
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
  let s = String(Math.abs(f));
  if (!/[.e]/.test(s)) s += '.0';
  else if (/e/.test(s) && !/\./.test(s)) s = s.replace('e', '.0e');
  return f < 0 || Object.is(f, -0) ? `(-${s})` : s;
}

function children(e: Expr): Expr[] {
  if (e.op === 'input' || e.op === 'param' || e.op === 'const') return [];
  if (e.op === 'where') return [e.cond, e.a, e.b];
  return 'b' in e ? [e.a, e.b] : [e.a];
}

export interface GlslFunction {
  /** The whole source: helpers, then the function. */
  readonly source: string;
  readonly name: string;
  /** Argument names, in order: v<i> per input, q<i> per parameter, then z (a zero). */
  readonly args: readonly string[];
}

/**
 * `name(v0..v{nIn-1}, q0..q{nParams-1}, z)`: evaluates `expr` once per distinct node object
 * (shared nodes are not recomputed) and converts the result to `outDtype`.
 */
export function compileExpr(expr: Expr, nIn: number, nParams: number, outDtype: DType, name = 'nb_k'): GlslFunction {
  const helpers = new Set<string>(['nb_zero']);
  const values = new Map<Expr, string>();
  const lines: string[] = [];
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
  let result = values.get(expr)!;
  if (outDtype === 'int32') {
    helpers.add('nb_f2i');
    result = `nb_f2i(${result})`;
  } else if (outDtype === 'bool') {
    helpers.add('nb_f2b');
    result = `nb_f2b(${result})`;
  }
  const args = [...Array.from({ length: nIn }, (_, i) => `v${i}`), ...Array.from({ length: nParams }, (_, i) => `q${i}`), 'z'];
  const fn = [
    `float ${name}(${args.map((a) => `float ${a}`).join(', ')}) {`,
    '  nb_zero = z;',
    ...lines.map((l) => `  ${l}`),
    `  return ${result};`,
    '}',
  ].join('\n');
  return { source: `${helperSource(helpers)}\n${fn}`, name, args };

  function temp(code: string): string {
    const t = `t${lines.length}`;
    lines.push(`float ${t} = ${code};`);
    return t;
  }

  function emit(e: Expr): string {
    switch (e.op) {
      case 'input':
        if (e.index >= nIn) throw new Error(`webgl: expression reads input ${e.index} of ${nIn}`);
        return `v${e.index}`;
      case 'param':
        if (e.index >= nParams) throw new Error(`webgl: expression reads parameter ${e.index} of ${nParams}`);
        return `q${e.index}`;
      case 'const':
        return floatLiteral(e.value, helpers);
      case 'where':
        helpers.add('nb_truthy');
        helpers.add('nb_sel');
        return temp(`nb_sel(nb_truthy(${values.get(e.cond)!}), ${values.get(e.a)!}, ${values.get(e.b)!})`);
      default:
        if (isUnary(e)) {
          const f = UNARY[e.op];
          if (!f) throw new Error(`webgl: no GLSL for unary '${e.op}'`);
          if (f[0]) helpers.add(f[0]);
          return temp(f[1](values.get(e.a)!));
        }
        if (isBinary(e)) {
          const f = BINARY[e.op];
          if (!f) throw new Error(`webgl: no GLSL for binary '${e.op}'`);
          if (f[0]) helpers.add(f[0]);
          return temp(f[1](values.get(e.a)!, values.get(e.b)!));
        }
        throw new Error(`webgl: unknown expression node '${(e as { op: string }).op}'`);
    }
  }
}
