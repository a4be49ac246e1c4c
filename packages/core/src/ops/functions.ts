/**
 * Every non-in-place op as a function: `nabla.add(a, b)`, `nabla.sum(x, 1)`. JS numbers are
 * accepted in any operand position (`nabla.sub(1.5, x)`), as PyTorch accepts Python scalars.
 */
import type { DType } from '../dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Operand } from './dispatch.js';
import { runElementwise } from './elementwise/define.js';
import * as T from './elementwise/table.js';
import type { Dims, ValuesIndices, VarOptions } from './reduce.js';

export { cat, stack } from './indexing.js';
export { where } from './elementwise/where.js';

const bin = (def: (typeof T.BINARY_METHOD_OPS)[keyof typeof T.BINARY_METHOD_OPS]) => (a: Operand, b: Operand): Tensor =>
  runElementwise(def, [a, b]);
const un = (def: (typeof T.UNARY_METHOD_OPS)[keyof typeof T.UNARY_METHOD_OPS]) => (x: Operand): Tensor => runElementwise(def, [x]);

export const add = bin(T.add);
export const sub = bin(T.sub);
export const mul = bin(T.mul);
export const div = bin(T.div);
export const pow = bin(T.pow);
export const maximum = bin(T.maximum);
export const minimum = bin(T.minimum);
export const eq = bin(T.eq);
export const ne = bin(T.ne);
export const gt = bin(T.gt);
export const ge = bin(T.ge);
export const lt = bin(T.lt);
export const le = bin(T.le);
export const logicalAnd = bin(T.logicalAnd);
export const logicalOr = bin(T.logicalOr);

export const neg = un(T.neg);
export const abs = un(T.abs);
export const sqrt = un(T.sqrt);
export const rsqrt = un(T.rsqrt);
export const exp = un(T.exp);
export const log = un(T.log);
export const log1p = un(T.log1p);
export const expm1 = un(T.expm1);
export const sin = un(T.sin);
export const cos = un(T.cos);
export const tan = un(T.tan);
export const tanh = un(T.tanh);
export const sigmoid = un(T.sigmoid);
export const relu = un(T.relu);
export const sign = un(T.sign);
export const reciprocal = un(T.reciprocal);
export const square = un(T.square);
export const round = un(T.round);
export const floor = un(T.floor);
export const ceil = un(T.ceil);
export const trunc = un(T.trunc);
export const logicalNot = un(T.logicalNot);
export const isnan = un(T.isnan);

export const clamp = (x: Tensor, min?: number | null, max?: number | null): Tensor => x.clamp(min, max);
export const maskedFill = (x: Tensor, mask: Tensor, value: Operand): Tensor => x.maskedFill(mask, value);

export const sum = (x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor => x.sum(dim, keepdim);
export const mean = (x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor => x.mean(dim, keepdim);
export const prod = (x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor => x.prod(dim, keepdim);
export const amax = (x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor => x.amax(dim, keepdim);
export const amin = (x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor => x.amin(dim, keepdim);
export function max(x: Tensor): Tensor;
export function max(x: Tensor, dim: number, keepdim?: boolean | null): ValuesIndices;
export function max(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor | ValuesIndices;
export function max(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor | ValuesIndices {
  return x.max(dim, keepdim);
}
export function min(x: Tensor): Tensor;
export function min(x: Tensor, dim: number, keepdim?: boolean | null): ValuesIndices;
export function min(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor | ValuesIndices;
export function min(x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor | ValuesIndices {
  return x.min(dim, keepdim);
}
export const logsumexp = (x: Tensor, dim?: Dims, keepdim?: boolean | null): Tensor => x.logsumexp(dim, keepdim);
const variance = (x: Tensor, dim?: Dims | VarOptions, opts?: VarOptions): Tensor => x.var(dim, opts);
export { variance as var };
export const std = (x: Tensor, dim?: Dims | VarOptions, opts?: VarOptions): Tensor => x.std(dim, opts);
export const norm = (x: Tensor, p?: number | 'fro' | null, dim?: Dims, keepdim?: boolean | null): Tensor => x.norm(p, dim, keepdim);
export const argmax = (x: Tensor, dim?: number | null, keepdim?: boolean | null): Tensor => x.argmax(dim, keepdim);
export const argmin = (x: Tensor, dim?: number | null, keepdim?: boolean | null): Tensor => x.argmin(dim, keepdim);

export const matmul = (a: Tensor, b: Tensor): Tensor => a.matmul(b);
export const mm = (a: Tensor, b: Tensor): Tensor => a.mm(b);
export const bmm = (a: Tensor, b: Tensor): Tensor => a.bmm(b);
export const dot = (a: Tensor, b: Tensor): Tensor => a.dot(b);
export const outer = (a: Tensor, b: Tensor): Tensor => a.outer(b);
export { addmm, type AddmmOptions } from './addmm.js';

type ShapeArg = number | readonly number[];
export const reshape = (x: Tensor, ...s: ShapeArg[]): Tensor => x.reshape(...s);
export const view = (x: Tensor, ...s: ShapeArg[]): Tensor => x.view(...s);
export const flatten = (x: Tensor, start?: number, end?: number): Tensor => x.flatten(start, end);
export const squeeze = (x: Tensor, dim?: number | null): Tensor => x.squeeze(dim);
export const unsqueeze = (x: Tensor, dim: number): Tensor => x.unsqueeze(dim);
export const transpose = (x: Tensor, d0: number, d1: number): Tensor => x.transpose(d0, d1);
export const permute = (x: Tensor, ...dims: ShapeArg[]): Tensor => x.permute(...dims);
export const expand = (x: Tensor, ...s: ShapeArg[]): Tensor => x.expand(...s);
export const t = (x: Tensor): Tensor => x.t();
export const narrow = (x: Tensor, dim: number, start: number, length: number): Tensor => x.narrow(dim, start, length);
export const select = (x: Tensor, dim: number, index: number): Tensor => x.select(dim, index);
export const indexSelect = (x: Tensor, dim: number, index: Tensor): Tensor => x.indexSelect(dim, index);
export const gather = (x: Tensor, dim: number, index: Tensor): Tensor => x.gather(dim, index);
export const scatterAdd = (x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor => x.scatterAdd(dim, index, src);
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);
export const clone = (x: Tensor): Tensor => x.clone();
export const contiguous = (x: Tensor): Tensor => x.contiguous();
export const detach = (x: Tensor): Tensor => x.detach();
export const to = (x: Tensor, target: DType | string): Tensor => x.to(target);
