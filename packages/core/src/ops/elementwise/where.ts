/** `where(cond, a, b)` and `maskedFill`: selection by a bool mask, differentiable in the values. */
import * as E from '../../expr/build.js';
import { NablaError } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import type { Operand } from '../dispatch.js';
import { defineElementwise, runElementwise } from './define.js';

export const whereOp = defineElementwise({
  name: 'where',
  arity: 3,
  expr: E.where(E.input(0), E.input(1), E.input(2)),
  grad: {
    name: 'WhereBackward0',
    save: 'inputs',
    uses: [[], [0], [0]],
    backward: (g, n) => {
      const cond = n.tensor(0);
      return [null, n.needs(1) ? where(cond, g, 0) : null, n.needs(2) ? where(cond, 0, g) : null];
    },
  },
});

export const maskedFillOp = defineElementwise({
  name: 'maskedFill',
  arity: 3,
  expr: E.where(E.input(1), E.input(2), E.input(0)),
  dtype: 'first',
  grad: {
    name: 'MaskedFillBackward0',
    save: 'inputs',
    uses: [[1], [], [1]],
    backward: (g, n) => {
      const mask = n.tensor(1);
      const v = n.input(2);
      const gv = typeof v !== 'number' && n.needs(2) ? where(mask, g, 0).sum() : null;
      return [n.needs(0) ? where(mask, 0, g) : null, null, gv];
    },
  },
});

function checkMask(op: string, m: Operand, what: string): void {
  if (!(m instanceof Tensor) || m.dtype !== 'bool') {
    const got = m instanceof Tensor ? `a ${m.dtype} tensor` : typeof m;
    throw new NablaError(`${what} must be a bool tensor, got ${got}`, { op });
  }
}

/** Elements of `a` where `cond` is true, of `b` elsewhere (broadcasting all three). */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  checkMask('where', cond, 'condition');
  return runElementwise(whereOp, [cond, a, b]);
}

export function maskedFill(x: Tensor, mask: Tensor, value: Operand): Tensor {
  checkMask('maskedFill', mask, 'mask');
  if (value instanceof Tensor && value.ndim !== 0) {
    throw new NablaError(`only supports a 0-dimensional value tensor, but got tensor with ${value.ndim} dimension(s)`, { op: 'maskedFill' });
  }
  return runElementwise(maskedFillOp, [x, mask, value]);
}
