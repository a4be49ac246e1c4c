/**
 * The gpu.js internals the backend relies on (gpujs.ts) are still there: fails on a gpu.js
 * upgrade that moves them, before any GL test runs (no GL context needed).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { gpu } from './gpujs.js';

describe('the gpu.js contract', () => {
  it('is the pinned gpu.js, with the kernel methods the backend patches and calls', () => {
    const pkg = createRequire(import.meta.url)('gpu.js/package.json') as { version: string };
    expect(pkg.version).toBe('2.24.1');
    for (const K of [gpu.WebGLKernel, gpu.WebGL2Kernel, gpu.HeadlessGLKernel]) {
      const proto = K.prototype as Record<string, unknown>;
      for (const m of ['_setupOutputTexture', '_replaceOutputTexture', 'setOutput', 'build', 'run', 'destroy']) {
        expect(typeof proto[m], `${K.name}.${m}`).toBe('function');
      }
    }
    expect(gpu.HeadlessGLKernel.prototype).toBeInstanceOf(gpu.WebGLKernel);
    expect(Array.from(gpu.utils.getKernelTextureSize({ optimizeFloatMemory: false, precision: 'single' }, [64, 1, 1]))).toEqual([8, 8]);
  });
});
