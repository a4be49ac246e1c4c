/**
 * memory() for small CPU storages, whose tensors share one finalizer per batch of 32 and claim a
 * slot of it (runtime/memory.ts): disposed members give their claim back at once, collected ones
 * when the whole batch is collected (a batch with one live member stays counted as a whole), and a
 * storage still held by a live alias stays counted.
 * The garbage collector is driven explicitly (`--expose-gc` set at run time), and each check waits
 * for the finalizers, which run only after the event loop turns.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { describe, expect, it } from 'vitest';
import { settle } from './helpers/collect.js';

/** `n` 0-d float32 tensors made in a scope of their own (so nothing here keeps them). */
function scalars(rt: Runtime, n: number, dispose: (i: number) => boolean): void {
  for (let i = 0; i < n; i++) {
    const t = rt.tensor(i);
    if (dispose(i)) t.dispose();
  }
}

describe('memory() of small CPU storages (batched finalizers)', () => {
  it('counts collected and disposed members right, batch by batch', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    // 96 tensors fill three batches exactly; every third is disposed at once.
    scalars(rt, 96, (i) => i % 3 === 0);
    expect(rt.memory().numTensors).toBe(64);
    expect(rt.memory().numBytes).toBe(64 * 4);
    expect(await settle(rt, { numTensors: 0, numBytes: 0 })).toEqual({ numTensors: 0, numBytes: 0 });
    rt.dispose();
  });

  it('keeps a storage counted while a live alias of it (in another batch) holds it', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    let alias: Tensor | null = null;
    (() => {
      const first = rt.tensor(7);
      scalars(rt, 62, () => false);
      // The 64th tensor (two full batches): shares first's storage without keeping first (a view would).
      alias = first.detach();
    })();
    expect(rt.memory().numTensors).toBe(64);
    // The first batch (first and 31 scalars) is collected; the second stays counted as a whole
    // while the alias lives (31 dead scalars and the alias), and so does first's storage.
    expect(await settle(rt, { numTensors: 32, numBytes: 32 * 4 })).toEqual({ numTensors: 32, numBytes: 32 * 4 });
    expect(alias!.item()).toBe(7);
    alias!.dispose(); // the storage's last claim
    expect(rt.memory()).toMatchObject({ numTensors: 31, numBytes: 31 * 4 });
    rt.dispose();
  });

  it('a tensor disposed twice, or pinned by a graph while disposed, releases its claim once', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    const w = rt.tensor(0.5, { requiresGrad: true });
    const y = w.mul(w); // saves w twice: w is pinned
    w.dispose();
    w.dispose();
    expect(rt.memory().numTensors).toBe(1); // y; w's storage is still held by the graph
    expect(rt.memory().numBytes).toBe(8);
    y.backward();
    y.dispose();
    expect(rt.memory()).toMatchObject({ numTensors: 1, numBytes: 4 }); // w.grad
    expect(w.grad!.item()).toBe(1);
    w.grad!.dispose();
    expect(rt.memory()).toMatchObject({ numTensors: 0, numBytes: 0 });
    rt.dispose();
  });
});
