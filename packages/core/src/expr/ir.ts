/**
 * The elementwise expression IR.
 *
 * Every elementwise op (core's and any plugin's) is declared once as an expression over its inputs
 * and scalar parameters; each backend compiles expressions into its own kernels (JavaScript loops on
 * the CPU, WGSL on WebGPU, ...). A new backend that can compile this small language gets every
 * elementwise op at once, including the ones plugins declare after it was installed.
 *
 * Semantics, for every backend:
 * - Values are numbers. Inputs are read in their dtype (`bool` reads as 0/1) and converted to the
 *   spec's `computeDtype`: float (float64 on the CPU, float32 on GPUs) or, only when that is
 *   `int32`/`bool`, integer arithmetic.
 * - Comparisons and logical ops yield 0 or 1. `where` selects by `cond != 0`.
 * - The result is stored in the output dtype: `int32` truncates toward zero (wrapping on
 *   overflow), `bool` stores `value != 0`.
 * - `round` rounds half to even (PyTorch). `sign(0) = 0`, `sign(NaN) = NaN`; `max`/`min`
 *   propagate NaN (PyTorch's `maximum`/`minimum`); `relu(NaN) = NaN`.
 * - Nodes may be shared (a DAG): compilers should evaluate a shared node once.
 */

export type UnaryFn =
  | 'neg' | 'abs' | 'sqrt' | 'rsqrt' | 'exp' | 'log' | 'log1p' | 'expm1'
  | 'sin' | 'cos' | 'tan' | 'tanh' | 'sigmoid' | 'relu' | 'sign' | 'reciprocal' | 'square'
  | 'floor' | 'ceil' | 'round' | 'trunc' | 'erf' | 'not' | 'isnan' | 'atan' | 'asin' | 'acos';

export type BinaryFn =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'atan2'
  | 'lt' | 'le' | 'gt' | 'ge' | 'eq' | 'ne' | 'and' | 'or';

export const UNARY_FNS: readonly UnaryFn[] = [
  'neg', 'abs', 'sqrt', 'rsqrt', 'exp', 'log', 'log1p', 'expm1', 'sin', 'cos', 'tan', 'tanh',
  'sigmoid', 'relu', 'sign', 'reciprocal', 'square', 'floor', 'ceil', 'round', 'trunc', 'erf',
  'not', 'isnan', 'atan', 'asin', 'acos',
];

export const BINARY_FNS: readonly BinaryFn[] = [
  'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'atan2', 'lt', 'le', 'gt', 'ge', 'eq', 'ne', 'and', 'or',
];

export type Expr =
  | { readonly op: 'input'; readonly index: number }
  | { readonly op: 'param'; readonly index: number }
  | { readonly op: 'const'; readonly value: number }
  | { readonly op: UnaryFn; readonly a: Expr }
  | { readonly op: BinaryFn; readonly a: Expr; readonly b: Expr }
  | { readonly op: 'where'; readonly cond: Expr; readonly a: Expr; readonly b: Expr };

const UNARY_SET = new Set<string>(UNARY_FNS);
const BINARY_SET = new Set<string>(BINARY_FNS);

export function isUnary(e: Expr): e is { op: UnaryFn; a: Expr } {
  return UNARY_SET.has(e.op);
}

export function isBinary(e: Expr): e is { op: BinaryFn; a: Expr; b: Expr } {
  return BINARY_SET.has(e.op);
}

/** A stable text form, used as a cache key and in error messages. Shared nodes are printed in full. */
export function exprToString(e: Expr): string {
  switch (e.op) {
    case 'input':
      return `$${e.index}`;
    case 'param':
      return `%${e.index}`;
    case 'const':
      return Number.isNaN(e.value) ? 'nan' : String(e.value);
    case 'where':
      return `where(${exprToString(e.cond)},${exprToString(e.a)},${exprToString(e.b)})`;
    default:
      if (isUnary(e)) return `${e.op}(${exprToString(e.a)})`;
      if (isBinary(e)) return `${e.op}(${exprToString(e.a)},${exprToString(e.b)})`;
      throw new Error(`unknown expression node ${(e as { op: string }).op}`);
  }
}
