/**
 * Whether the cpu suite can measure the CPU backend's relaxed-SIMD FMA matrix products beside its
 * default ones: on a Node that compiles relaxed SIMD only behind a V8 flag (Node 20 and 21), the
 * flag the measuring processes of matrix-product groups are forked with, once a child started
 * with it has compiled a relaxed instruction; null where relaxed SIMD is this Node's default
 * (the default columns already run FMA) or where the flag does not work.
 */
import { spawnSync } from 'node:child_process';

export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

/** (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))) */
const PROBE = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00, 0x0a, 0x3d, 0x01, 0x3b, 0x00,
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]),
  0xfd, 0x85, 0x02, 0x0b,
];
const PROBE_SOURCE = `process.exit(WebAssembly.validate(new Uint8Array(${JSON.stringify(PROBE)})) ? 0 : 1)`;

let memo: string | null | undefined;

export function relaxedSimdFlag(): string | null {
  if (memo !== undefined) return memo;
  if (WebAssembly.validate(new Uint8Array(PROBE))) return (memo = null);
  const r = spawnSync(process.execPath, [RELAXED_SIMD_FLAG, '-e', PROBE_SOURCE], { stdio: 'ignore', timeout: 30_000 });
  return (memo = r.status === 0 ? RELAXED_SIMD_FLAG : null);
}
