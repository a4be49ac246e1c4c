/**
 * How a graph node keeps its edges and saved tensors (core's autograd/node.ts) seen from outside:
 * edges to an output other than 0 and nodes with more than two inputs (the flat edge list), the
 * `nextFunctions` built on read, and saved tensors kept bare at version 0 (the version check, the
 * alias of a tensor disposed before backward, `savedInfo`) against those kept with a version.
 */
import * as nabla from '@nabla/core';
import { autograd, createRuntime, type FunctionCtx, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});
afterAll(async () => {
  await rt.dispose();
});

const f64 = (v: number[], requiresGrad = false): Tensor => rt.tensor(v, { dtype: 'float64', requiresGrad });
const values = (t: Tensor): number[] => Array.from(t.dataSync() as Float64Array);
const edges = (t: Tensor): [string | undefined, number][] => t.gradFn!.nextFunctions.map(([n, i]) => [n?.name(), i]);

/** Two outputs (2x, 3x): what consumes output 1 has an edge to an output other than 0. */
class Two extends nabla.Function {
  static override forward(_ctx: FunctionCtx, x: Tensor): Tensor[] {
    return [x.mul(2), x.mul(3)];
  }
  static override backward(_ctx: FunctionCtx, g0: Tensor, g1: Tensor): Tensor {
    return g0.mul(2).add(g1.mul(3));
  }
}

describe('graph edges', () => {
  it('an op on output 1 of a node points at that output; the gradient reaches the right output', () => {
    const x = f64([1, 2], true);
    const [p, q] = Two.apply(x) as unknown as Tensor[];
    const y = q!.mul(p!); // 6x²
    expect(edges(y)).toEqual([
      ['TwoBackward', 1],
      ['TwoBackward', 0],
    ]);
    expect(y.gradFn!.nextFunctions[0]![0]).toBe(q!.gradFn);
    y.sum().backward();
    expect(values(x.grad!)).toEqual([12, 24]);
  });

  it('a node with four inputs lists four edges in order (None for a constant) and passes each its gradient', () => {
    const x = f64([1, 2], true);
    const [p, q] = Two.apply(x) as unknown as Tensor[];
    const c = f64([5, 5]);
    const s = nabla.stack([p!, q!, c, x], 0); // rows 2x, 3x, 5, x
    expect(edges(s)).toEqual([
      ['TwoBackward', 0],
      ['TwoBackward', 1],
      [undefined, 0],
      ['AccumulateGrad', 0],
    ]);
    s.mul(f64([1, 10]).reshape([1, 2])).sum().backward(); // d/dx: (2 + 3 + 1)·[1, 10]
    expect(values(x.grad!)).toEqual([6, 60]);
  });

  it('autograd.grad for an intermediate output 1 and a leaf walks only what leads to them', () => {
    const x = f64([1, 2], true);
    const w = f64([4, 4], true);
    const [p, q] = Two.apply(x) as unknown as Tensor[];
    const y = nabla.stack([q!.mul(p!), w.mul(q!), p!.exp()], 0).sum();
    const [gq, gw] = autograd.grad([y], [q!, w]);
    // dy/dq = p + w = 2x + 4; dy/dw = q = 3x
    expect(values(gq!)).toEqual([6, 8]);
    expect(values(gw!)).toEqual([3, 6]);
    expect(x.grad).toBeNull();
  });

  it('next and nextFunctions are built on each read and do not change the node', () => {
    const a = f64([1], true);
    const y = a.mul(2).add(a);
    const first = y.gradFn!.nextFunctions;
    first.pop();
    expect(y.gradFn!.nextFunctions).toHaveLength(2);
    expect(y.gradFn!.next).toEqual(y.gradFn!.nextFunctions);
    y.backward();
    expect(values(a.grad!)).toEqual([3]);
  });
});

describe('saved tensors', () => {
  it('one saved at version 0 and written in place after is caught, naming versions 1 and 0', () => {
    const a = f64([1, 2], true).mul(1);
    const y = a.mul(a);
    a.add_(1);
    expect(() => y.sum().backward()).toThrow(/is at version 1; expected version 0 instead/);
  });

  it('one saved after an in-place write keeps its version: written again, versions 2 and 1', () => {
    const a = f64([1, 2], true).mul(1);
    a.add_(1);
    const y = a.mul(a);
    expect(values(y)).toEqual([4, 9]);
    a.add_(1);
    expect(() => y.sum().backward()).toThrow(/is at version 2; expected version 1 instead/);
  });

  it('a saved result written in place is caught too', () => {
    const a = f64([0, 1], true).mul(1);
    const e = a.exp(); // ExpBackward0 keeps its result
    const l = e.sum();
    e.mul_(2);
    expect(() => l.backward()).toThrow(/expected version 0 instead/);
  });

  it('one disposed before a retained backward is still read, twice, and freed with the graph', () => {
    const w = f64([1, 2], true);
    const before = rt.memory().numTensors;
    const a = w.mul(2);
    const b = a.square(); // saves a
    a.dispose();
    const s = b.sum();
    s.backward(undefined, { retainGraph: true });
    s.backward();
    expect(values(w.grad!)).toEqual([16, 32]); // 2 · 8w
    s.dispose();
    b.dispose();
    w.grad!.dispose();
    w.grad = null;
    expect(rt.memory().numTensors).toBe(before);
  });

  it('savedInfo describes bare and versioned saved tensors alike', () => {
    const x = f64([1, 2, 3], true);
    const w = f64([2], true);
    const bare = x.mul(w).gradFn!.savedInfo();
    const xv = x.mul(1);
    xv.add_(1);
    const versioned = xv.mul(w).gradFn!.savedInfo();
    const want = [
      { name: 'self', shape: [3], dtype: 'float64', device: 'cpu', bytes: 24, packed: false },
      { name: 'other', shape: [1], dtype: 'float64', device: 'cpu', bytes: 8, packed: false },
    ];
    expect(bare).toEqual(want);
    expect(versioned).toEqual(want);
    expect(x.tanh().gradFn!.savedInfo()).toEqual([{ name: 'result', shape: [3], dtype: 'float64', device: 'cpu', bytes: 24, packed: false }]);
  });

  it('a second backward without retainGraph names the freed graph', () => {
    const x = f64([1, 2], true);
    const y = x.tanh().sum();
    y.backward();
    expect(() => y.backward()).toThrow(/Trying to backward through the graph a second time/);
  });
});
