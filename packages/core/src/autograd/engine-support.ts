/**
 * What the backward engine (engine.ts) leans on: its ready queue, fitting a returned gradient to
 * the metadata of what it is the gradient of, zero gradients, and anomaly-mode errors.
 */
import { NablaError, fmtShape } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../tensor/tensor.js';
import { AccumulateGrad } from './accumulate-grad.js';
import type { Node, TensorMeta } from './node.js';

/**
 * A max-heap of nodes by creation order: the most recent ready node runs first. Its array never
 * shrinks (`count` says how much of it is the heap): a chain's queue goes from empty to one node and back at
 * every step, and a shrinking array would give its storage back and grow a new one each time.
 */
export class ReadyQueue {
  private readonly heap: (Node | null)[] = [];
  private count = 0;
  get size(): number {
    return this.count;
  }
  push(n: Node): void {
    const h = this.heap;
    let i = this.count++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (priority(h[p]!) >= priority(n)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = n;
  }
  pop(): Node {
    const h = this.heap;
    const top = h[0]!;
    const n = --this.count;
    const last = h[n]!;
    h[n] = null;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && priority(h[r]!) > priority(h[l]!) ? r : l;
        if (priority(h[c]!) <= priority(last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

/** Accumulators first (so leaf grads land as soon as they are complete), then newest first. */
function priority(n: Node): number {
  return n instanceof AccumulateGrad ? Number.MAX_SAFE_INTEGER : n.seq;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `shape` broadcasts to `target` (so a gradient of `target` can be summed down to it). */
function expandableTo(shape: readonly number[], target: readonly number[]): boolean {
  if (shape.length > target.length) return false;
  const off = target.length - shape.length;
  return shape.every((d, i) => d === 1 || d === target[i + off]);
}

/** Fits a gradient to the metadata of what it is the gradient of (PyTorch's validate_outputs). */
export function fitGrad(g: Tensor, meta: TensorMeta, who: string, index: number): Tensor {
  if (!(g instanceof Tensor)) {
    throw new NablaError(`${who} returned an invalid gradient at index ${index} - expected a Tensor or null, got ${typeof g}`, { op: who });
  }
  let r = g;
  if (!sameShape(r.shape, meta.shape)) {
    if (!expandableTo(meta.shape, r.shape)) {
      throw new NablaError(
        `Function ${who} returned an invalid gradient at index ${index} - got ${fmtShape(r.shape)} but expected shape compatible with ${fmtShape(meta.shape)}`,
        { op: who },
      );
    }
    r = sumToShape(r, meta.shape);
  }
  if (r.device !== meta.device) {
    throw new NablaError(
      `Function ${who} returned an invalid gradient at index ${index} - expected device ${meta.device} but got ${r.device}`,
      { op: who },
    );
  }
  if (r.dtype !== meta.dtype) r = r.to(meta.dtype);
  return r;
}

function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  let r = axes.length ? g.sum(axes, true) : g;
  if (!sameShape(r.shape, shape)) r = r.reshape(shape);
  return r;
}

let zerosFactory: ((rt: Runtime, meta: TensorMeta) => Tensor) | null = null;
/** @internal core's factories register how the engine makes zero gradients. */
export function setZerosFactory(f: (rt: Runtime, meta: TensorMeta) => Tensor): void {
  zerosFactory = f;
}
export function makeZeros(rt: Runtime, meta: TensorMeta): Tensor {
  return zerosFactory!(rt, meta);
}

export function hasNaN(t: Tensor): boolean {
  const b = t._ref.backend;
  if (!b.readsSync || !b.readSync) return false;
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) if (d[i] !== d[i]) return true;
  return false;
}

export function anomalyError(node: Node, message: string, cause?: unknown): NablaError {
  const where = node.stack ? `\n\nForward of the failing node was called here (anomaly detection):\n${node.stack}` : '';
  return new NablaError(`${message}${where}`, { op: node.name(), cause });
}

