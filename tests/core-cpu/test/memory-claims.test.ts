/**
 * memory() when a small CPU storage's holders change after it was made. An unshared small storage
 * has no account object: its tensor's batch slot holds the byte count (runtime/memory.ts,
 * `StorageRef.owner`), and the first other holder (an alias, a read, the graph's alias of a
 * disposed saved tensor) moves that slot onto a shared account. Every order of disposing and
 * collecting must uncount the storage exactly once, when its last holder is gone.
 * The garbage collector is driven explicitly (`--expose-gc` set at run time), and each check waits
 * for the finalizers, which run only after the event loop turns.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { describe, expect, it } from 'vitest';
import { settle } from './helpers/collect.js';

/** Fills the open batch so the tensors made before are in batches of their own (32 per batch). */
function filler(rt: Runtime, n: number): void {
  for (let i = 0; i < n; i++) rt.tensor(i);
}

describe('memory() of small storages whose holders change', () => {
  it('shared after it was made: the original disposed, the alias collected', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    (() => {
      const a = rt.tensor(5);
      (() => {
        const alias = a.detach();
        expect(alias.item()).toBe(5);
      })();
      filler(rt, 62);
      a.dispose();
      expect(rt.memory()).toMatchObject({ numTensors: 63, numBytes: 63 * 4 });
    })();
    // The alias (and every filler) is collected: the storage goes with its last holder.
    expect(await settle(rt, { numTensors: 0, numBytes: 0 })).toEqual({ numTensors: 0, numBytes: 0 });
    await rt.dispose();
  });

  it('shared after it was made: the alias disposed, the original collected', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    let alias: Tensor | null = null;
    (() => {
      const a = rt.tensor(6);
      alias = a.view([1]);
    })();
    filler(rt, 62);
    expect(rt.memory()).toMatchObject({ numTensors: 64, numBytes: 63 * 4 });
    alias!.dispose();
    // Disposing the alias does not uncount the storage: the original still holds it until collected.
    expect(rt.memory()).toMatchObject({ numTensors: 63, numBytes: 63 * 4 });
    alias = null; // a disposed member still keeps its batch (and so the batch's counts) until collected
    expect(await settle(rt, { numTensors: 0, numBytes: 0 })).toEqual({ numTensors: 0, numBytes: 0 });
    await rt.dispose();
  });

  it('both collected, or both disposed, in either order, count the storage once', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    (() => {
      const a = rt.tensor(1);
      const b = a.detach();
      const c = b.view([1, 1]);
      expect(c.item()).toBe(1);
    })();
    filler(rt, 61);
    const d = rt.tensor(2);
    const e = d.detach();
    // a, b, c share one storage; d and e another: 66 tensors, 63 storages.
    expect(rt.memory()).toMatchObject({ numTensors: 66, numBytes: 63 * 4 });
    e.dispose();
    expect(rt.memory()).toMatchObject({ numTensors: 65, numBytes: 63 * 4 });
    d.dispose();
    expect(rt.memory()).toMatchObject({ numTensors: 64, numBytes: 62 * 4 });
    expect(await settle(rt, { numTensors: 0, numBytes: 0 })).toEqual({ numTensors: 0, numBytes: 0 });
    await rt.dispose();
  });

  it('a read in flight and the graph\'s alias of a disposed saved tensor are holders too', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    const r = rt.tensor(9);
    const reading = r.data();
    r.dispose();
    expect(Array.from(await reading)).toEqual([9]);
    expect(rt.memory()).toMatchObject({ numTensors: 0, numBytes: 0 });

    const w = rt.tensor(0.5, { requiresGrad: true });
    const y = w.mul(2); // mul by a number saves nothing
    const z = w.sin(); // saves w
    w.dispose(); // pinned by z's node: still counted as bytes, not as a tensor
    expect(rt.memory()).toMatchObject({ numTensors: 2, numBytes: 3 * 4 });
    z.backward(); // unpacks w through an alias (another holder), then frees the graph
    expect(w.grad!.item()).toBeCloseTo(Math.cos(0.5), 6);
    expect(rt.memory()).toMatchObject({ numTensors: 3, numBytes: 3 * 4 }); // y, z, w.grad; w's storage gone
    for (const t of [y, z, w.grad!]) t.dispose();
    expect(rt.memory()).toMatchObject({ numTensors: 0, numBytes: 0 });
    await rt.dispose();
  });

  it('a tensor\'s batch slot shares a field with its flags and output number, and none of them disturbs the others', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    // Made in inference mode (a flag set after the slot): disposing each gives back its own claim.
    const made = rt.inferenceMode(() => Array.from({ length: 40 }, (_, i) => rt.tensor(i)));
    expect(made.map((t) => t._slot)).toEqual(Array.from({ length: 40 }, (_, i) => i % 32));
    for (const t of made) expect(t._inference).toBe(true);
    for (const t of made) t.dispose();
    expect(rt.memory()).toMatchObject({ numTensors: 0, numBytes: 0 });

    const t = rt.tensor(1, { requiresGrad: true });
    const slot = t._slot;
    t._outputNr = 123_456;
    t._disposed = false;
    expect([t._slot, t._outputNr, t._requiresGrad, t._inference]).toEqual([slot, 123_456, true, false]);
    t._slot = 31;
    expect([t._slot, t._outputNr, t._requiresGrad]).toEqual([31, 123_456, true]);
    t._slot = slot;
    t._outputNr = 0;
    t.dispose();
    expect([t._slot, t._disposed, t._requiresGrad]).toEqual([slot, true, true]);
    expect(rt.memory()).toMatchObject({ numTensors: 0, numBytes: 0 });
    await rt.dispose();
  });
});
