/**
 * `Parameter`: a leaf tensor that a `Module` registers as one of its parameters when assigned
 * to one of its fields. As in PyTorch, `new Parameter(t)` shares `t`'s storage and requires grad.
 */
import { NablaError, Tensor } from '@nabla/core';
import { pin, untracked } from './lifetime.js';

const parameters = new WeakSet<Tensor>();

// The instance type is a Tensor; the class only brands tensors (so `p instanceof Parameter` works).
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface Parameter extends Tensor {}

export class Parameter {
  /**
   * A parameter over `data`'s storage (a detached alias: no history, same memory).
   *
   * @example
   * const w = new Parameter(rt.randn([3, 4]));
   * w.requiresGrad; // true
   */
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof Tensor)) {
      throw new NablaError(`Parameter expects a Tensor, got ${data === null ? 'null' : typeof data}`, { op: 'Parameter' });
    }
    // A parameter outlives any tidy() that happens to be running when it is made.
    const p = untracked(data.rt, () => data.detach());
    if (requiresGrad) p.requiresGrad_(true);
    parameters.add(p);
    pin(p);
    return p as Parameter;
  }

  static [Symbol.hasInstance](x: unknown): boolean {
    return x instanceof Tensor && parameters.has(x);
  }
}

/** Marks an existing leaf tensor as a parameter without making a new tensor object. */
export function asParameter(t: Tensor): Parameter {
  parameters.add(t);
  pin(t);
  return t as Parameter;
}
