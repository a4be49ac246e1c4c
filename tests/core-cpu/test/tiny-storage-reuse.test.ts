/**
 * The CPU backend keeps released tiny storages (at most 4 elements) and hands them to the next
 * tiny allocation (backend-cpu/src/storage.ts): a backward pass through a scalar graph frees its
 * temporaries as it goes and reuses them. Core releases a storage only when its last holder let go,
 * so a reused storage must never be one a live tensor, view, saved tensor or read still uses, and a
 * disposed tensor must still refuse every use even though its old storage now backs another one.
 */
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { describe, expect, it } from 'vitest';

async function cpu(): Promise<Runtime> {
  return createRuntime({ plugins: [cpuBackend()] });
}

/** Live tensors of distinct storage references never share a storage object. */
function expectNoSharing(live: readonly Tensor[]): void {
  const owner = new Map<object, object>();
  for (const t of live) {
    const s = t._ref.storage;
    const ref = owner.get(s);
    if (ref === undefined) owner.set(s, t._ref);
    else expect(ref, `tensor #${t.id} shares a storage with another live tensor`).toBe(t._ref);
  }
}

describe('reuse of released tiny CPU storages', () => {
  it('a disposed scalar\'s storage goes to the next one, and the disposed tensor still refuses every use', async () => {
    const rt = await cpu();
    const a = rt.tensor(1.5);
    const storage = a._ref.storage;
    a.dispose();
    const b = rt.tensor(2.5);
    expect(b._ref.storage).toBe(storage); // reused
    expect(b._ref).not.toBe(a._ref); // but through a reference of its own: a's stays released
    expect(a._ref.released).toBe(true);
    expect(b.item()).toBe(2.5);
    expect(() => a.item()).toThrow(/disposed and cannot be used/);
    expect(() => a.dataSync()).toThrow(/disposed and cannot be used/);
    expect(() => a.add(1)).toThrow(/disposed and cannot be used/);
    expect(() => b.mul(a)).toThrow(/disposed and cannot be used/);
    expect(() => a.add_(1)).toThrow(/disposed and cannot be used/);
    await expect(a.data()).rejects.toThrow(/disposed and cannot be used/);
    expect(String(a)).toMatch(/disposed/);
    expect(b.item()).toBe(2.5);
    b.dispose();
    expect(rt.memory()).toMatchObject({ numTensors: 0, numBytes: 0 });
    await rt.dispose();
  });

  it('is never reused while a live alias, a graph that saved it, or a read in flight still holds it', async () => {
    const rt = await cpu();
    // An alias (detach shares the storage) outlives the tensor.
    const a = rt.tensor(3);
    const alias = a.detach();
    a.dispose();
    const others = Array.from({ length: 40 }, (_, i) => rt.tensor(100 + i));
    expect(others.map((t) => t._ref.storage)).not.toContain(alias._ref.storage);
    expect(alias.item()).toBe(3);

    // A tensor saved for backward and disposed before backward runs.
    const w = rt.tensor(0.5, { dtype: 'float64', requiresGrad: true });
    const y = w.mul(w).mul(w); // w is pinned by the graph
    const saved = w._ref.storage;
    w.dispose();
    const more = Array.from({ length: 40 }, (_, i) => rt.tensor(200 + i, { dtype: 'float64' }));
    expect(more.map((t) => t._ref.storage)).not.toContain(saved);
    y.backward();
    expect(w.grad!.item()).toBeCloseTo(3 * 0.25, 15); // d(w^3)/dw read from the saved storage

    // A read started before dispose finishes with the values it was asked for.
    const r = rt.tensor(42);
    const reading = r.data();
    r.dispose();
    const after = Array.from({ length: 8 }, () => rt.tensor(-1));
    expect(Array.from(await reading)).toEqual([42]);

    expectNoSharing([alias, ...others, ...more, y, w.grad!, ...after]);
    for (const [i, t] of others.entries()) expect(t.item()).toBe(100 + i);
    for (const [i, t] of more.entries()) expect(t.item()).toBe(200 + i);
    await rt.dispose();
  });

  it('random workloads of making, aliasing and disposing scalars: live tensors never share a storage and keep their values', async () => {
    const rt = await cpu();
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const live: { t: Tensor; v: number }[] = [];
    for (let step = 0; step < 2000; step++) {
      const r = rand();
      if (r < 0.35 || live.length === 0) {
        const v = Math.round(rand() * 1000);
        live.push({ t: rt.tensor(v, { dtype: rand() < 0.5 ? 'float32' : 'float64' }), v });
      } else if (r < 0.5) {
        const { t, v } = live[Math.floor(rand() * live.length)]!;
        live.push({ t: rand() < 0.5 ? t.detach() : t.view([1]), v });
      } else if (r < 0.7) {
        const { t, v } = live[Math.floor(rand() * live.length)]!;
        live.push({ t: t.add(1), v: v + 1 });
      } else {
        const [gone] = live.splice(Math.floor(rand() * live.length), 1);
        gone!.t.dispose();
      }
    }
    expectNoSharing(live.map((l) => l.t));
    for (const { t, v } of live) expect(t.dataSync()[0]).toBe(v);
    const m = rt.memory();
    expect(m.numTensors).toBe(live.length);
    const storages = new Map<object, number>();
    for (const { t } of live) storages.set(t._ref.storage, t._ref.storage.byteLength);
    expect(m.numBytes).toBe([...storages.values()].reduce((s, b) => s + b, 0));
    for (const { t } of live) t.dispose();
    expect(rt.memory()).toMatchObject({ numTensors: 0, numBytes: 0 });
    await rt.dispose();
  });

  it('backward through a scalar chain reuses its temporaries and gives the same gradients every time', async () => {
    const rt = await cpu();
    const steps = 200;
    const x0 = rt.tensor(0.3, { dtype: 'float64' });
    const w = rt.tensor(0.5, { dtype: 'float64', requiresGrad: true });
    const b = rt.tensor(0.1, { dtype: 'float64', requiresGrad: true });
    // The same chain in plain JavaScript (float64 throughout).
    let y = 0.3;
    const ys = [y];
    for (let i = 0; i < steps; i++) ys.push((y = Math.tanh(y * 0.5 + 0.1)));
    let dy = 1;
    let dw = 0;
    let db = 0;
    for (let i = steps; i > 0; i--) {
      const dz = dy * (1 - ys[i]! * ys[i]!);
      dw += dz * ys[i - 1]!;
      db += dz;
      dy = dz * 0.5;
    }
    for (let round = 0; round < 3; round++) {
      let t = x0;
      for (let i = 0; i < steps; i++) t = t.mul(w).add(b).tanh();
      expect(t.item()).toBeCloseTo(ys[steps]!, 14);
      t.backward();
      expect(w.grad!.item()).toBeCloseTo(dw, 12);
      expect(b.grad!.item()).toBeCloseTo(db, 12);
      w.grad!.dispose();
      b.grad!.dispose();
      w.grad = null;
      b.grad = null;
      t.dispose();
    }
    expect(rt.memory().pooledBytes).toBeGreaterThan(0); // the temporaries are parked for the next pass
    await rt.dispose();
  });
});
