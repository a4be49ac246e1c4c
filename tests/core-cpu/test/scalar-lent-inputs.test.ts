/**
 * The scalar paths (`runBinary`, `runUnary` in core's `ops/elementwise/define.ts`) hand kernels
 * their `inputs` in an array lent for the call (the `ElementwiseKernel` contract: kernels read it
 * only while they run). What must hold: each call sees its own operands, the lent array keeps no
 * tensor reachable once the call returns, and a kernel that fails leaves nothing wrong for the next
 * call.
 */
import { createRuntime, type Runtime, type View } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { afterEach, describe, expect, it } from 'vitest';

/** A CPU runtime whose elementwise kernels report the `inputs` array they were given. */
async function spiedRuntime(seen: (readonly View[])[], failOn?: { name: string; armed: boolean }): Promise<Runtime> {
  const rt = await createRuntime({ plugins: [cpuBackend({ threads: 1 })] });
  const b = rt.backend('cpu');
  const compile = b.compileElementwise.bind(b);
  b.compileElementwise = (spec) => {
    const k = compile(spec);
    return (out, inputs, params) => {
      seen.push(inputs);
      if (failOn?.armed && spec.name.startsWith(failOn.name)) throw new Error('injected failure');
      k(out, inputs, params);
    };
  };
  return rt;
}

let rt: Runtime | undefined;
afterEach(async () => {
  await rt?.dispose();
  rt = undefined;
});

describe('lent kernel inputs on the scalar paths', () => {
  it('every call sees its own operands and the array is emptied after it (forward and backward)', async () => {
    const seen: (readonly View[])[] = [];
    rt = await spiedRuntime(seen);
    const w = rt.tensor(0.5, { dtype: 'float64', requiresGrad: true });
    const b = rt.tensor(0.1, { dtype: 'float64', requiresGrad: true });
    let y = rt.tensor(0.3, { dtype: 'float64' });
    let ref = 0.3;
    // The first call of each op kind fills the memo (general path); the rest take the lent array.
    for (let i = 0; i < 5; i++) {
      y = y.mul(w).add(b).tanh().mul(1.5);
      ref = 1.5 * Math.tanh(ref * 0.5 + 0.1);
    }
    expect(y.item()).toBeCloseTo(ref, 12);
    y.backward();
    // d/dw and d/db by forward-mode on plain numbers.
    let v = 0.3, dw = 0, db = 0;
    for (let i = 0; i < 5; i++) {
      const u = v * 0.5 + 0.1;
      const t = Math.tanh(u);
      const s = 1.5 * (1 - t * t);
      dw = s * (dw * 0.5 + v);
      db = s * (db * 0.5 + 1);
      v = 1.5 * t;
    }
    expect(w.grad!.item()).toBeCloseTo(dw, 12);
    expect(b.grad!.item()).toBeCloseTo(db, 12);
    // Most calls were given a shared (lent) array, and none of those holds a view now; the general
    // path's own arrays (first calls) are garbage once it returns.
    const uses = new Map<readonly View[], number>();
    for (const arr of seen) uses.set(arr, (uses.get(arr) ?? 0) + 1);
    const lent = [...uses].filter(([, n]) => n > 1);
    expect(lent.reduce((s, [, n]) => s + n, 0)).toBeGreaterThan(seen.length / 2);
    for (const [arr] of lent) for (const v of arr) expect(v).toBeNull();
  });

  it('a kernel that throws names the op, frees its result and leaves the next call right', async () => {
    const seen: (readonly View[])[] = [];
    const failOn = { name: 'mul', armed: false };
    rt = await spiedRuntime(seen, failOn);
    const a = rt.tensor(2, { dtype: 'float32' });
    const c = rt.tensor(3, { dtype: 'float32' });
    a.mul(c).dispose(); // fills the memo: the next mul takes the lent path
    const before = rt.memory();
    failOn.armed = true;
    expect(() => a.mul(c)).toThrow(/mul/);
    const after = rt.memory();
    expect([after.numTensors, after.numBytes]).toEqual([before.numTensors, before.numBytes]);
    failOn.armed = false;
    expect(a.mul(c).item()).toBe(6);
    expect(a.add(c).item()).toBe(5);
  });
});
