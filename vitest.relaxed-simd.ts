// Projects for a package's vitest config that run some of its tests a second time under V8's
// relaxed-SIMD flag: the CPU backend's matrix products multiply-add with relaxed SIMD's FMA where
// the engine has it (Chrome 114+, Node 22+), and Node 20 compiles it only behind that flag.
import type { TestProjectInlineConfiguration } from 'vitest/config';
import shared from './vitest.shared.js';

/** (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))) */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x3d, 0x01, 0x3b, 0x00,
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]),
  0xfd, 0x85, 0x02, 0x0b,
]);

/**
 * The package's own project (`name`, every test) and, where this Node needs the flag for relaxed
 * SIMD, a second one running `include` with it. Both are spelled out from the shared config: a
 * project that `extends` it would add the shared include to its own.
 */
export function withRelaxedSimd(name: string, include: string[]): TestProjectInlineConfiguration[] {
  const plain = { ...shared, test: { ...shared.test, name } };
  if (WebAssembly.validate(RELAXED_PROBE)) return [plain];
  return [plain, { ...shared, test: { ...shared.test, name: `${name} (relaxed SIMD)`, include, execArgv: ['--experimental-wasm-relaxed-simd'] } }];
}
