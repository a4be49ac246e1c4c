import { defineConfig } from 'vitest/config';
import { withRelaxedSimd } from '../../vitest.relaxed-simd.js';

// The GEMM, thread and wasm-vs-JavaScript tests run again with the FMA micro-kernel where Node
// needs a flag for it, so the kernel Chrome and Node 22+ run is tested here too.
export default defineConfig({
  test: { projects: withRelaxedSimd('backend-cpu', ['src/wasm/gemm*.test.ts', 'src/wasm/threads.test.ts', 'src/wasm/differential.test.ts']) },
});
