/**
 * The module functions that forward to a Tensor method (`nabla.sum(x, 1)` is `x.sum(1)`), checked
 * first for a Tensor: `nabla.sum(3)` is a NablaError naming `sum`, not a TypeError about `x.sum`.
 * index.ts exports these by name, which takes precedence over `export *` of ops/functions.ts.
 */
import * as F from '../ops/functions.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkTensor } from '../validate/tensor.js';

function tensorFirst<F extends (x: Tensor, ...rest: never[]) => unknown>(op: string, fn: F): F {
  return ((x: Tensor, ...rest: never[]) => {
    checkTensor(op, 'input', x);
    return fn(x, ...rest);
  }) as F;
}

export const sum = tensorFirst('sum', F.sum);
export const mean = tensorFirst('mean', F.mean);
export const prod = tensorFirst('prod', F.prod);
export const amax = tensorFirst('amax', F.amax);
export const amin = tensorFirst('amin', F.amin);
export const max = tensorFirst('max', F.max);
export const min = tensorFirst('min', F.min);
export const logsumexp = tensorFirst('logsumexp', F.logsumexp);
export const std = tensorFirst('std', F.std);
const variance = tensorFirst('var', F.var);
export { variance as var };
export const norm = tensorFirst('norm', F.norm);
export const argmax = tensorFirst('argmax', F.argmax);
export const argmin = tensorFirst('argmin', F.argmin);
export const clamp = tensorFirst('clamp', F.clamp);
export const maskedFill = tensorFirst('maskedFill', F.maskedFill);
export const matmul = tensorFirst('matmul', F.matmul);
export const mm = tensorFirst('mm', F.mm);
export const bmm = tensorFirst('bmm', F.bmm);
export const dot = tensorFirst('dot', F.dot);
export const outer = tensorFirst('outer', F.outer);
export const reshape = tensorFirst('reshape', F.reshape);
export const view = tensorFirst('view', F.view);
export const flatten = tensorFirst('flatten', F.flatten);
export const squeeze = tensorFirst('squeeze', F.squeeze);
export const unsqueeze = tensorFirst('unsqueeze', F.unsqueeze);
export const transpose = tensorFirst('transpose', F.transpose);
export const permute = tensorFirst('permute', F.permute);
export const expand = tensorFirst('expand', F.expand);
export const t = tensorFirst('t', F.t);
export const narrow = tensorFirst('narrow', F.narrow);
export const select = tensorFirst('select', F.select);
export const indexSelect = tensorFirst('indexSelect', F.indexSelect);
export const gather = tensorFirst('gather', F.gather);
export const scatterAdd = tensorFirst('scatterAdd', F.scatterAdd);
export const softmax = tensorFirst('softmax', F.softmax);
export const logSoftmax = tensorFirst('logSoftmax', F.logSoftmax);
export const clone = tensorFirst('clone', F.clone);
export const contiguous = tensorFirst('contiguous', F.contiguous);
export const detach = tensorFirst('detach', F.detach);
export const to = tensorFirst('to', F.to);
