import { defineConfig } from 'vitest/config';
import { withRelaxedSimd } from '../../vitest.relaxed-simd.js';

// The programs at wasm sizes run again with the CPU backend's FMA matrix products where Node needs
// a flag for them, so that kernel is held to PyTorch too.
export default defineConfig({ test: { projects: withRelaxedSimd('conformance', ['test/wasm-sizes.test.ts']) } });
