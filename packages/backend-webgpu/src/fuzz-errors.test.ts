/**
 * The wrong-call fuzzer of tests/core-cpu (same cases) on WebGPU: each call is a NablaError
 * naming the op, leaves memory() where it was (no gc()), and the device still computes right
 * answers afterwards (read back asynchronously after each batch of calls). One fixed seed and one
 * random one, printed when it fails.
 */
import * as fc from 'fast-check';
import type { Runtime, Tensor } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuRuntime, probe } from './test-utils/setup.js';

/** What tests/core-cpu/test/wrong-calls.ts exports (loaded by URL: it lies outside this package's rootDir). */
interface Fixtures {
  x: Tensor;
}
interface WrongCalls {
  fixtures(rt: Runtime, device: string): Fixtures;
  tryWrongCall(rt: Runtime, device: string, f: Fixtures, c: unknown, bad: unknown, fine: () => boolean): { ok: boolean; why: string };
  wrongCallOn(readsSync: boolean): fc.Arbitrary<{ c: unknown; bad: unknown }>;
}
const { fixtures, tryWrongCall, wrongCallOn } = (await import(
  /* @vite-ignore */ new URL('../../../tests/core-cpu/test/wrong-calls.ts', import.meta.url).href
)) as WrongCalls;

const adapter = await probe();

describe.skipIf(!adapter.ok)('wrong calls on webgpu', () => {
  let rt: Runtime;
  let f: Fixtures;
  beforeAll(async () => {
    rt = (await gpuRuntime())!;
    f = fixtures(rt, 'webgpu');
  });
  afterAll(async () => {
    await rt.dispose();
  });

  const right = async (): Promise<boolean> => {
    const s = f.x.add(1).sum();
    const p = f.x.matmul(f.x.t());
    const ok = (await s.itemAsync()) === 11 && Array.from(await p.data()).join() === '14,-24,-24,77';
    s.dispose();
    p.dispose();
    return ok;
  };

  for (const seed of [20261130, Math.floor(Math.random() * 2 ** 31)]) {
    it(`each is a NablaError naming the op and leaves nothing; the device stays right (seed ${seed})`, async () => {
      try {
        fc.assert(
          fc.property(wrongCallOn(false), ({ c, bad }) => {
            const r = tryWrongCall(rt, 'webgpu', f, c, bad, () => true);
            if (!r.ok) throw new Error(r.why);
          }),
          { seed, numRuns: 1500 },
        );
      } catch (e) {
        console.log(`[fuzz webgpu] failed with seed ${seed}; rerun it with this seed`);
        throw e;
      }
      expect(await right()).toBe(true);
    }, 300_000);
  }
});
