/**
 * Driving the garbage collector from a test: `--expose-gc` switched on at run time, and a wait
 * for `memory()` to read what a test expects once the finalizers ran (they need turns of the
 * event loop).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Runtime } from '@nabla/core';

setFlagsFromString('--expose-gc');
export const gc = runInNewContext('gc') as () => void;

/** Collects until `memory()` reads `want`, or gives up after 50 rounds; returns what it read. */
export async function settle(rt: Runtime, want: { numTensors: number; numBytes: number }): Promise<{ numTensors: number; numBytes: number }> {
  let m = rt.memory();
  for (let i = 0; i < 50 && (m.numTensors !== want.numTensors || m.numBytes !== want.numBytes); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
    m = rt.memory();
  }
  return { numTensors: m.numTensors, numBytes: m.numBytes };
}
