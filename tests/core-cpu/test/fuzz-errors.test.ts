/**
 * A seeded fuzzer of wrong calls (test/wrong-calls.ts) over the public API on the CPU: every one
 * is a NablaError naming the op that was called, leaves memory() where it was (no gc(): small CPU
 * storages count too), and the runtime still computes right answers afterwards. One fixed seed
 * and one random one, printed when it fails.
 */
import * as fc from 'fast-check';
import { createRuntime, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtures, tryWrongCall, wrongCall, type Fixtures } from './wrong-calls.js';

let rt: Runtime;
let f: Fixtures;
let x: Tensor;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
  f = fixtures(rt, 'cpu');
  x = f.x;
});

const fine = (): boolean =>
  rt.tidy(() => x.add(1).sum().item() === 11 && Array.from(x.matmul(x.t()).dataSync()).join() === '14,-24,-24,77');

describe('wrong calls on the cpu', () => {
  for (const seed of [20261130, Math.floor(Math.random() * 2 ** 31)]) {
    it(`each is a NablaError naming the op, leaves nothing, and the runtime stays right (seed ${seed})`, () => {
      try {
        fc.assert(
          fc.property(wrongCall, ({ c, bad }) => {
            const r = tryWrongCall(rt, 'cpu', f, c, bad, fine);
            if (!r.ok) throw new Error(r.why);
          }),
          { seed, numRuns: 2500 },
        );
      } catch (e) {
        console.log(`[fuzz] failed with seed ${seed}; rerun it with this seed`);
        throw e;
      }
      expect(fine()).toBe(true);
    });
  }
});
