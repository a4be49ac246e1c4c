/**
 * A small builder for the expression IR, so op declarations read like formulas:
 * `mul(x, sub(c(1), sigmoid(x)))`.
 */
import type { BinaryFn, Expr, UnaryFn } from './ir.js';

export type E = Expr;

/** The i-th input of the kernel. */
export const input = (index: number): Expr => ({ op: 'input', index });
/** The i-th runtime scalar parameter (so one compiled kernel serves every value). */
export const param = (index: number): Expr => ({ op: 'param', index });
/** A literal constant. */
export const c = (value: number): Expr => ({ op: 'const', value });

const un = (op: UnaryFn) => (a: Expr): Expr => ({ op, a });
const bin = (op: BinaryFn) => (a: Expr, b: Expr): Expr => ({ op, a, b });

export const neg = un('neg');
export const abs = un('abs');
export const sqrt = un('sqrt');
export const rsqrt = un('rsqrt');
export const exp = un('exp');
export const log = un('log');
export const log1p = un('log1p');
export const expm1 = un('expm1');
export const sin = un('sin');
export const cos = un('cos');
export const tan = un('tan');
export const tanh = un('tanh');
export const sigmoid = un('sigmoid');
export const relu = un('relu');
export const sign = un('sign');
export const reciprocal = un('reciprocal');
export const square = un('square');
export const floor = un('floor');
export const ceil = un('ceil');
export const round = un('round');
export const trunc = un('trunc');
export const erf = un('erf');
export const not = un('not');
export const isnan = un('isnan');

export const add = bin('add');
export const sub = bin('sub');
export const mul = bin('mul');
export const div = bin('div');
export const pow = bin('pow');
export const max = bin('max');
export const min = bin('min');
export const lt = bin('lt');
export const le = bin('le');
export const gt = bin('gt');
export const ge = bin('ge');
export const eq = bin('eq');
export const ne = bin('ne');
export const and = bin('and');
export const or = bin('or');

export const where = (cond: Expr, a: Expr, b: Expr): Expr => ({ op: 'where', cond, a, b });
