/**
 * Installs every op as a Tensor method. The declarations below merge into the Tensor class's
 * type, so `x.add(y)` type-checks while `tensor/tensor.ts` stays free of op imports.
 */
import type { DType } from '../dtype.js';
import { NablaError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Operand } from './dispatch.js';
import { runBinary, runElementwise, runUnary } from './elementwise/define.js';
import * as T from './elementwise/table.js';
import { maskedFill, maskedFillOp, where } from './elementwise/where.js';
import { copyFrom, detach_, fillWith, inplaceElementwise, requiresGrad_, zeroFill } from './inplace.js';
import { cat, gather, indexSelect, scatterAdd, stack } from './indexing.js';
import { bmm, dot, matmul, mm, outer } from './linalg.js';
import { addmm, type AddmmOptions } from './addmm.js';
import * as R from './reduce.js';
import type { Dims, ValuesIndices, VarOptions } from './reduce.js';
import { logSoftmax, softmax } from './softmax.js';
import * as V from './view.js';
import { to, toAsync } from './convert.js';
import { checkOptionalScalar, checkScalar } from '../validate/scalar.js';

type ShapeArg = number | readonly number[];

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(other: Operand): Tensor;
    sub(other: Operand): Tensor;
    mul(other: Operand): Tensor;
    div(other: Operand): Tensor;
    pow(exponent: Operand): Tensor;
    maximum(other: Operand): Tensor;
    minimum(other: Operand): Tensor;
    eq(other: Operand): Tensor;
    ne(other: Operand): Tensor;
    gt(other: Operand): Tensor;
    ge(other: Operand): Tensor;
    lt(other: Operand): Tensor;
    le(other: Operand): Tensor;
    logicalAnd(other: Operand): Tensor;
    logicalOr(other: Operand): Tensor;
    logicalNot(): Tensor;
    isnan(): Tensor;
    neg(): Tensor;
    abs(): Tensor;
    sqrt(): Tensor;
    rsqrt(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    log1p(): Tensor;
    expm1(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tan(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    sign(): Tensor;
    reciprocal(): Tensor;
    square(): Tensor;
    round(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    trunc(): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    maskedFill(mask: Tensor, value: Operand): Tensor;
    where(cond: Tensor, other: Operand): Tensor;

    sum(dim?: Dims, keepdim?: boolean | null): Tensor;
    mean(dim?: Dims, keepdim?: boolean | null): Tensor;
    prod(dim?: Dims, keepdim?: boolean | null): Tensor;
    amax(dim?: Dims, keepdim?: boolean | null): Tensor;
    amin(dim?: Dims, keepdim?: boolean | null): Tensor;
    /** Without a dim: the overall max. With one: `{ values, indices }` (PyTorch's named tuple). */
    max(): Tensor;
    max(dim: number, keepdim?: boolean | null): ValuesIndices;
    max(dim?: Dims, keepdim?: boolean | null): Tensor | ValuesIndices;
    min(): Tensor;
    min(dim: number, keepdim?: boolean | null): ValuesIndices;
    min(dim?: Dims, keepdim?: boolean | null): Tensor | ValuesIndices;
    logsumexp(dim?: Dims, keepdim?: boolean | null): Tensor;
    var(dim?: Dims | VarOptions, opts?: VarOptions): Tensor;
    std(dim?: Dims | VarOptions, opts?: VarOptions): Tensor;
    norm(p?: number | 'fro' | null, dim?: Dims, keepdim?: boolean | null): Tensor;
    argmax(dim?: number | null, keepdim?: boolean | null): Tensor;
    argmin(dim?: number | null, keepdim?: boolean | null): Tensor;

    matmul(other: Tensor): Tensor;
    mm(other: Tensor): Tensor;
    bmm(other: Tensor): Tensor;
    dot(other: Tensor): Tensor;
    outer(other: Tensor): Tensor;
    /** `beta · this + alpha · (mat1 @ mat2)` (PyTorch's `input.addmm(mat1, mat2)`), one fused kernel. */
    addmm(mat1: Tensor, mat2: Tensor, opts?: AddmmOptions): Tensor;

    reshape(...shape: ShapeArg[]): Tensor;
    view(...shape: ShapeArg[]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    squeeze(dim?: number | null): Tensor;
    unsqueeze(dim: number): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    permute(...dims: ShapeArg[]): Tensor;
    expand(...shape: ShapeArg[]): Tensor;
    expandAs(other: Tensor): Tensor;
    viewAs(other: Tensor): Tensor;
    t(): Tensor;
    narrow(dim: number, start: number, length: number): Tensor;
    select(dim: number, index: number): Tensor;
    indexSelect(dim: number, index: Tensor): Tensor;
    gather(dim: number, index: Tensor): Tensor;
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    softmax(dim: number): Tensor;
    logSoftmax(dim: number): Tensor;

    clone(): Tensor;
    contiguous(): Tensor;
    detach(): Tensor;
    /** A copy with another dtype or on another device (this tensor when nothing changes). */
    to(target: DType | string): Tensor;
    toAsync(target: DType | string): Promise<Tensor>;

    add_(other: Operand): this;
    sub_(other: Operand): this;
    mul_(other: Operand): this;
    div_(other: Operand): this;
    clamp_(min?: number | null, max?: number | null): this;
    copy_(src: Tensor | number): this;
    fill_(value: number | boolean): this;
    zero_(): this;
    maskedFill_(mask: Tensor, value: Operand): this;
    requiresGrad_(flag?: boolean): this;
    detach_(): this;
  }
}

function clampParams(min: number | null | undefined, max: number | null | undefined, op: string): [number, number] {
  const lo = checkOptionalScalar(op, 'min', min);
  const hi = checkOptionalScalar(op, 'max', max);
  if (lo === null && hi === null) throw new NablaError("At least one of 'min' or 'max' must not be None", { op });
  return [lo ?? -Infinity, hi ?? Infinity];
}

const proto = Tensor.prototype as unknown as Record<string, unknown>;

for (const [name, def] of Object.entries(T.UNARY_METHOD_OPS)) {
  proto[name] = function (this: Tensor) {
    return runUnary(def, this);
  };
}
for (const [name, def] of Object.entries(T.BINARY_METHOD_OPS)) {
  proto[name] = function (this: Tensor, other: Operand) {
    return runBinary(def, this, other);
  };
}

const inplaceBinary = { add_: T.add, sub_: T.sub, mul_: T.mul, div_: T.div } as const;
for (const [name, def] of Object.entries(inplaceBinary)) {
  proto[name] = function (this: Tensor, other: Operand) {
    return inplaceElementwise(name, def, this, [other]);
  };
}

Object.assign(proto, {
  clamp(this: Tensor, min?: number | null, max?: number | null) {
    return runElementwise(T.clamp, [this], clampParams(min, max, 'clamp'));
  },
  clamp_(this: Tensor, min?: number | null, max?: number | null) {
    return inplaceElementwise('clamp_', T.clamp, this, [], clampParams(min, max, 'clamp_'));
  },
  maskedFill(this: Tensor, mask: Tensor, value: Operand) {
    return maskedFill(this, mask, value);
  },
  maskedFill_(this: Tensor, mask: Tensor, value: Operand) {
    if (!(mask instanceof Tensor) || mask.dtype !== 'bool') maskedFill(this, mask, value);
    return inplaceElementwise('maskedFill_', maskedFillOp, this, [mask, value]);
  },
  where(this: Tensor, cond: Tensor, other: Operand) {
    return where(cond, this, other);
  },
  copy_(this: Tensor, src: Tensor | number) {
    return inplaceElementwise('copy_', copyFrom, this, [src]);
  },
  fill_(this: Tensor, value: number | boolean) {
    return inplaceElementwise('fill_', fillWith, this, [], [checkScalar('fill_', 'value', value)]);
  },
  zero_(this: Tensor) {
    return inplaceElementwise('zero_', zeroFill, this, []);
  },
  requiresGrad_(this: Tensor, flag = true) {
    return requiresGrad_(this, flag);
  },
  detach_(this: Tensor) {
    return detach_(this);
  },

  sum(this: Tensor, dim?: Dims, keepdim?: boolean) {
    return R.sum(this, dim, keepdim);
  },
  mean(this: Tensor, dim?: Dims, keepdim?: boolean) {
    return R.mean(this, dim, keepdim);
  },
  prod(this: Tensor, dim?: Dims, keepdim?: boolean) {
    return R.prod(this, dim, keepdim);
  },
  amax(this: Tensor, dim?: Dims, keepdim?: boolean) {
    return R.amax(this, dim, keepdim);
  },
  amin(this: Tensor, dim?: Dims, keepdim?: boolean) {
    return R.amin(this, dim, keepdim);
  },
  max(this: Tensor, dim?: Dims, keepdim?: boolean) {
    return R.max(this, dim, keepdim);
  },
  min(this: Tensor, dim?: Dims, keepdim?: boolean) {
    return R.min(this, dim, keepdim);
  },
  logsumexp(this: Tensor, dim?: Dims, keepdim?: boolean) {
    return R.logsumexp(this, dim, keepdim);
  },
  var(this: Tensor, dim?: Dims | VarOptions, opts?: VarOptions) {
    return R.variance(this, dim, opts);
  },
  std(this: Tensor, dim?: Dims | VarOptions, opts?: VarOptions) {
    return R.std(this, dim, opts);
  },
  norm(this: Tensor, p?: number | 'fro' | null, dim?: Dims, keepdim?: boolean) {
    return R.norm(this, p, dim, keepdim);
  },
  argmax(this: Tensor, dim?: number | null, keepdim?: boolean) {
    return R.argmax(this, dim, keepdim);
  },
  argmin(this: Tensor, dim?: number | null, keepdim?: boolean) {
    return R.argmin(this, dim, keepdim);
  },

  matmul(this: Tensor, o: Tensor) {
    return matmul(this, o);
  },
  mm(this: Tensor, o: Tensor) {
    return mm(this, o);
  },
  bmm(this: Tensor, o: Tensor) {
    return bmm(this, o);
  },
  dot(this: Tensor, o: Tensor) {
    return dot(this, o);
  },
  outer(this: Tensor, o: Tensor) {
    return outer(this, o);
  },
  addmm(this: Tensor, m1: Tensor, m2: Tensor, opts?: AddmmOptions) {
    return addmm(this, m1, m2, opts);
  },

  reshape(this: Tensor, ...s: ShapeArg[]) {
    return V.reshape(this, ...s);
  },
  view(this: Tensor, ...s: ShapeArg[]) {
    return V.view(this, ...s);
  },
  flatten(this: Tensor, start?: number, end?: number) {
    return V.flatten(this, start, end);
  },
  squeeze(this: Tensor, dim?: number | null) {
    return V.squeeze(this, dim);
  },
  unsqueeze(this: Tensor, dim: number) {
    return V.unsqueeze(this, dim);
  },
  transpose(this: Tensor, a: number, b: number) {
    return V.transpose(this, a, b);
  },
  permute(this: Tensor, ...d: ShapeArg[]) {
    return V.permute(this, ...d);
  },
  expand(this: Tensor, ...s: ShapeArg[]) {
    return V.expand(this, ...s);
  },
  expandAs(this: Tensor, o: Tensor) {
    return V.expand(this, o.shape);
  },
  viewAs(this: Tensor, o: Tensor) {
    return V.view(this, o.shape);
  },
  t(this: Tensor) {
    return V.t(this);
  },
  narrow(this: Tensor, dim: number, start: number, length: number) {
    return V.narrow(this, dim, start, length);
  },
  select(this: Tensor, dim: number, index: number) {
    return V.select(this, dim, index);
  },
  indexSelect(this: Tensor, dim: number, index: Tensor) {
    return indexSelect(this, dim, index);
  },
  gather(this: Tensor, dim: number, index: Tensor) {
    return gather(this, dim, index);
  },
  scatterAdd(this: Tensor, dim: number, index: Tensor, src: Tensor) {
    return scatterAdd(this, dim, index, src);
  },
  softmax(this: Tensor, dim: number) {
    return softmax(this, dim);
  },
  logSoftmax(this: Tensor, dim: number) {
    return logSoftmax(this, dim);
  },
  clone(this: Tensor) {
    return V.clone(this);
  },
  contiguous(this: Tensor) {
    return V.contiguous(this);
  },
  detach(this: Tensor) {
    return V.detach(this);
  },
  to(this: Tensor, target: DType | string) {
    return to(this, target);
  },
  toAsync(this: Tensor, target: DType | string) {
    return toAsync(this, target);
  },
});

export { cat, stack, where };
