/** The CPU backends the WebAssembly kernel tests compare against each other. */
import { afterAll } from 'vitest';
import { CpuBackend } from '../backend.js';

/**
 * `js`: wasm off, the JavaScript kernels every wasm kernel is checked against; `one`: wasm on one
 * thread; `two`: wasm on two threads, whose workers are joined after the calling file's tests.
 */
export async function wasmTestBackends(): Promise<{ js: CpuBackend; one: CpuBackend; two: CpuBackend }> {
  const js = new CpuBackend({ wasm: false });
  const one = new CpuBackend();
  const two = new CpuBackend({ threads: 2 });
  await two.init();
  afterAll(async () => {
    await two.dispose();
  });
  return { js, one, two };
}
