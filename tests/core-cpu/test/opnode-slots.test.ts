/**
 * Where an OpNode keeps what its op saved (core's autograd/op-node.ts): up to two slots (inputs,
 * then outputs) in the node's own fields, more in an array, and a node recorded without input
 * slots whose outputs need more room than the fields give moves to the array. Each layout must
 * hand its formula the same values, describe them with PyTorch's names, refuse an unsaved input,
 * check versions and free them with the graph.
 */
import { createRuntime, gradFormula, record, type MaybeGrad, type OpNode, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});
afterAll(async () => {
  await rt.dispose();
});

const f64 = (v: number, requiresGrad = true): Tensor => rt.tensor(v, { dtype: 'float64', requiresGrad });
const names = (t: Tensor): string[] => t.gradFn!.savedInfo().map((s) => s.name);
/** `fn` of the operands' values, as a fresh tensor without a graph (the op's forward). */
const valueOf = (x: Tensor, v: number): Tensor => rt.tensor(v, { dtype: x.dtype });

describe('OpNode saved slots', () => {
  it('three inputs saved (an array): the formula reads each, and savedInfo names them', () => {
    // y = a*b*c, each gradient the product of the other two saved inputs.
    const f = gradFormula('Mul3Backward', (gs: MaybeGrad[], n: OpNode) => {
      const [a, b, c] = [n.tensor(0), n.tensor(1), n.tensor(2)];
      return [gs[0]!.mul(b).mul(c), gs[0]!.mul(a).mul(c), gs[0]!.mul(a).mul(b)];
    });
    const a = f64(2);
    const b = f64(3);
    const c = f64(5);
    const y = valueOf(a, 30);
    record(f, [a, b, c], [y], { saveInputs: true });
    expect(names(y)).toEqual(['self', 'other', 'input2']);
    y.backward();
    expect([a.grad!.item(), b.grad!.item(), c.grad!.item()]).toEqual([15, 10, 6]);
    expect(y.gradFn!.savedInfo()).toEqual([]);
  });

  it('two inputs and the output (three slots): inputs and output both reach the formula', () => {
    // y = a*b; the formula uses the output: dy/da = y/a, dy/db = y/b.
    const f = gradFormula('MulOutBackward', (gs: MaybeGrad[], n: OpNode) => {
      const out = n.output();
      return [gs[0]!.mul(out).div(n.tensor(0)), gs[0]!.mul(out).div(n.tensor(1))];
    });
    const a = f64(4);
    const b = f64(0.5);
    const y = valueOf(a, 2);
    record(f, [a, b], [y], { saveInputs: true, saveOutputs: true });
    expect(names(y)).toEqual(['self', 'other', 'result']);
    y.backward();
    expect([a.grad!.item(), b.grad!.item()]).toEqual([0.5, 4]);
  });

  it('two inputs unsaved and the output: the slots move into an array; an unsaved input is refused', () => {
    const f = gradFormula('OutOnlyBackward', (gs: MaybeGrad[], n: OpNode) => {
      expect(() => n.input(0)).toThrow(/input 0 was not saved for backward/);
      return [gs[0]!.mul(n.output()), null];
    });
    const a = f64(3);
    const b = f64(7, false);
    const y = valueOf(a, 9);
    record(f, [a, b], [y], { saveOutputs: true });
    expect(names(y)).toEqual(['result']);
    y.backward();
    expect(a.grad!.item()).toBe(9);
  });

  it('one input and the output (both inline): read, version-checked, and freed with the graph', () => {
    const f = gradFormula('InOutBackward', (gs: MaybeGrad[], n: OpNode) => [gs[0]!.mul(n.tensor(0)).add(n.output())]);
    const x = f64(2);
    const base = x.mul(1);
    const y = valueOf(x, 8);
    record(f, [base], [y], { saveInputs: true, saveOutputs: true });
    expect(names(y)).toEqual(['self', 'result']);
    y.backward({ retainGraph: true });
    expect(x.grad!.item()).toBe(10);
    // The output written in place after it was saved: the version check names the output's slot.
    y.detach().add_(1);
    expect(() => y.backward()).toThrow(/is at version 1; expected version 0 instead/);
  });

  it('a saved input disposed before backward is read through its alias in an inline slot', () => {
    const x = f64(3);
    const w = f64(0.25);
    const h = x.mul(2);
    const y = h.mul(w);
    const before = rt.memory().numTensors;
    h.dispose();
    y.backward();
    expect(w.grad!.item()).toBe(6);
    expect(x.grad!.item()).toBe(0.5);
    y.dispose();
    w.grad!.dispose();
    x.grad!.dispose();
    // h's storage went with the graph: nothing it saved is still counted.
    expect(rt.memory().numTensors).toBeLessThanOrEqual(before - 1);
  });
});
