/**
 * The conformance cases again on the CPU backend with its WebAssembly kernels forced off
 * (`cpuBackend({ wasm: false })`, what `NABLA_CPU_WASM=0` does): the JavaScript kernels, which
 * stay as the fallback and as the reference the wasm kernels are tested against, must match
 * PyTorch on their own. (This file runs in its own module context, so the default runtime here is
 * not the one conformance.test.ts fills.)
 */
import { describe, expect, it } from 'vitest';
import { prepareDevice } from '../src/run.js';
import { categoryTests } from './categories.js';

const ready = await prepareDevice('cpu', { wasm: false });

describe('conformance with PyTorch on cpu, WebAssembly off', () => {
  it('runs the JavaScript kernels only', () => {
    expect(ready.ok && ready.description).toMatch(/^cpu \(JavaScript, 1 thread/);
  });
  categoryTests('cpu');
});
