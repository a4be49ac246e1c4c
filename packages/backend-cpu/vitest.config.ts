import { defineConfig } from 'vitest/config';
import shared from '../../vitest.shared.js';

/** (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))) */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x3d, 0x01, 0x3b, 0x00,
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]),
  0xfd, 0x85, 0x02, 0x0b,
]);

// Chrome 114+ and Node 22+ compile relaxed SIMD, so there the GEMM micro-kernel multiply-adds with
// relaxed_madd; Node 20 does only behind a V8 flag. Where that flag is needed, the GEMM and thread
// tests run a second time with it, so the kernel those engines run is tested here too.
const fmaProject = WebAssembly.validate(RELAXED_PROBE)
  ? []
  : [
      {
        ...shared,
        test: {
          ...shared.test,
          name: 'backend-cpu (relaxed SIMD)',
          include: ['src/wasm/gemm*.test.ts', 'src/wasm/threads.test.ts', 'src/wasm/differential.test.ts'],
          execArgv: ['--experimental-wasm-relaxed-simd'],
        },
      },
    ];

// Projects spelled out from the shared config (not `extends: true`, which would add the shared
// include to this one's).
export default defineConfig({ test: { projects: [{ ...shared, test: { ...shared.test, name: 'backend-cpu' } }, ...fmaProject] } });
