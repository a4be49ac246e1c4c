/**
 * Whether the cpu suite can measure the CPU backend's relaxed-SIMD FMA matrix products beside its
 * default ones: on a Node that compiles relaxed SIMD only behind a V8 flag (Node 20 and 21), the
 * flag the measuring processes of matrix-product groups are forked with, once a child started
 * with it has found, with the backend's own probe (`hasRelaxedMadd`), that it compiles; null where
 * relaxed SIMD is this Node's default (the default columns already run FMA) or where the flag
 * does not work.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hasRelaxedMadd } from '@nabla/backend-cpu';

export const RELAXED_SIMD_FLAG = '--experimental-wasm-relaxed-simd';

const CHILD_PROBE = "import { hasRelaxedMadd } from '@nabla/backend-cpu'; process.exit(hasRelaxedMadd() ? 0 : 1);";

export function relaxedSimdFlag(): string | null {
  if (hasRelaxedMadd()) return null;
  // Run from this package, so that the child resolves '@nabla/backend-cpu' as this process does.
  const cwd = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, [RELAXED_SIMD_FLAG, '--input-type=module', '-e', CHILD_PROBE], { cwd, stdio: 'ignore', timeout: 30_000 });
  return r.status === 0 ? RELAXED_SIMD_FLAG : null;
}
