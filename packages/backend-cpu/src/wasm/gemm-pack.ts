/**
 * Emits the GEMM packers: they copy an operand (already staged in the memory, any strides) into
 * the panel layout the macro-kernel reads (`gemm-kernel.ts`).
 *
 * One function serves both operands: a panel holds R "lanes" (rows of A, or columns of B) side by
 * side for each of kc steps along the shared dimension, dst[k·R + l] = src[l·ls + k·ks], lanes past
 * `n` zero. Packing A is lanes = rows (ls = A's row stride, ks = its column stride); packing B is
 * lanes = columns (ls = B's column stride, ks = its row stride). So a transposed operand costs the
 * same single pass as a contiguous one, and no transpose is ever materialised.
 *
 * Packing in JavaScript cost more than the multiply for the shapes of an MLP step (a strided read
 * of a transposed weight ran at ~25 ns an element); here a contiguous panel row is one or two
 * v128 copies. When instead each lane is contiguous along k (a row-major A, a transposed B: the
 * forward's x·W and the backward's g·Wᵀ), a full panel takes a vector of k steps from every lane
 * and transposes them in registers (f32: 4×4 blocks, f64: 2×2), a quarter of the loads and stores
 * of the scalar case (0.55 → 0.2-0.35 ns an element on a 1024² A here, 0.42 → 0.19 on the MLP's
 * 64×784 x). The rest, partial panels and other strides, is a scalar load and store per element.
 */
import { type Code, ModuleBuilder, ValType } from './emitter.js';

/** `i8x16.shuffle` of the two vectors on the stack, picking `lanes` of `laneBytes` bytes each (0.. from the first, then the second). */
function shuffle(f: Code, lanes: readonly number[], laneBytes: number): void {
  const bytes: number[] = [];
  for (const l of lanes) for (let b = 0; b < laneBytes; b++) bytes.push(l * laneBytes + b);
  f.w.byte(0xfd).u32(13).bytes(bytes);
}

/**
 * Adds `pack_<dtype>_<R>(src, ls, ks, n, kc, dst, zero)` (byte pointers and byte strides) to `mod`:
 * ceil(n/R) panels of kc×R elements each, written contiguously from `dst`. `zero` points at R
 * zero elements (what the lanes past `n` read). n ≥ 1 and kc ≥ 1.
 */
export function emitPack(mod: ModuleBuilder, dtype: 'float32' | 'float64', R: number): void {
  const i32 = ValType.i32;
  const f = mod.func(`pack_${dtype}_${R}`, [i32, i32, i32, i32, i32, i32, i32]);
  const [SRC, LS, KS, N, KCn, DST, ZERO] = [0, 1, 2, 3, 4, 5, 6];
  const es = dtype === 'float32' ? 4 : 8;
  const load = dtype === 'float32' ? 'f32.load' : 'f64.load';
  const store = dtype === 'float32' ? 'f32.store' : 'f64.store';
  const alignE = es === 4 ? 2 : 3;
  const vecs = (R * es) / 16;

  const p0 = f.local(i32);
  const valid = f.local(i32);
  const base = f.local(i32);
  const k = f.local(i32);
  const d = f.local(i32);
  const q = Array.from({ length: R }, () => f.local(i32));
  const t = Array.from({ length: R }, () => f.local(i32));
  // The transposing path: lpv lanes (and k steps) per vector, R / lpv vectors per panel row.
  const lpv = 16 / es;
  const kv = f.local(i32);
  const v = Array.from({ length: lpv }, () => f.local(ValType.v128));
  const tv = Array.from({ length: lpv }, () => f.local(ValType.v128));

  f.i32c(0).set(p0);
  f.get(DST).set(d);
  f.block().loop(); // panels
  f.get(p0).get(N).op('i32.ge_s').brIf(1);
  f.get(N).get(p0).op('i32.sub').set(valid);
  f.get(SRC).get(p0).get(LS).op('i32.mul').op('i32.add').set(base);
  f.get(KCn).set(k);

  // A full panel whose lanes are adjacent (ls = one element): each k step is a plain copy.
  f.get(valid).i32c(R).op('i32.ge_s');
  f.get(LS).i32c(es).op('i32.sub').op('i32.eqz');
  f.op('i32.and').if_();
  f.loop();
  for (let v = 0; v < vecs; v++) f.get(d).get(base).vmem('v128.load', 0, v * 16).vmem('v128.store', 4, v * 16);
  f.get(base).get(KS).op('i32.add').set(base);
  f.get(d).i32c(R * es).op('i32.add').set(d);
  f.get(k).i32c(1).op('i32.sub').tee(k).brIf(0);
  f.end();
  f.else_();
  // General strides: one pointer per lane; the lanes past n read the zeros and never move.
  for (let l = 0; l < R; l++) {
    f.get(valid).i32c(l).op('i32.gt_s').if_();
    f.get(base).i32c(l).get(LS).op('i32.mul').op('i32.add').set(q[l]!);
    f.get(KS).set(t[l]!);
    f.else_();
    f.get(ZERO).set(q[l]!);
    f.i32c(0).set(t[l]!);
    f.end();
  }
  // A full panel whose lanes are each contiguous along k (ks = one element): lpv k steps at a time.
  f.get(valid).i32c(R).op('i32.ge_s');
  f.get(KS).i32c(es).op('i32.sub').op('i32.eqz');
  f.op('i32.and').if_();
  f.get(k).i32c(Math.log2(lpv)).op('i32.shr_u').tee(kv).if_();
  f.loop();
  for (let g = 0; g < R / lpv; g++) {
    for (let i = 0; i < lpv; i++) f.get(q[g * lpv + i]!).vmem('v128.load', 0).set(v[i]!);
    if (lpv === 4) {
      // 4×4 transpose: rows of lanes in, rows of k steps out.
      f.get(v[0]!).get(v[1]!);
      shuffle(f, [0, 4, 1, 5], 4);
      f.set(tv[0]!).get(v[2]!).get(v[3]!);
      shuffle(f, [0, 4, 1, 5], 4);
      f.set(tv[1]!).get(v[0]!).get(v[1]!);
      shuffle(f, [2, 6, 3, 7], 4);
      f.set(tv[2]!).get(v[2]!).get(v[3]!);
      shuffle(f, [2, 6, 3, 7], 4);
      f.set(tv[3]!);
      for (let j = 0; j < 4; j++) {
        f.get(d).get(tv[j < 2 ? 0 : 2]!).get(tv[j < 2 ? 1 : 3]!);
        shuffle(f, j % 2 === 0 ? [0, 1, 4, 5] : [2, 3, 6, 7], 4);
        f.vmem('v128.store', 4, j * R * es + g * 16);
      }
    } else {
      for (let j = 0; j < 2; j++) {
        f.get(d).get(v[0]!).get(v[1]!);
        shuffle(f, j === 0 ? [0, 2] : [1, 3], 8);
        f.vmem('v128.store', 4, j * R * es + g * 16);
      }
    }
  }
  for (let l = 0; l < R; l++) f.get(q[l]!).i32c(16).op('i32.add').set(q[l]!);
  f.get(d).i32c(lpv * R * es).op('i32.add').set(d);
  f.get(kv).i32c(1).op('i32.sub').tee(kv).brIf(0);
  f.end();
  f.end();
  f.get(k).i32c(lpv - 1).op('i32.and').set(k);
  f.end();
  f.get(k).if_();
  f.loop();
  for (let l = 0; l < R; l++) {
    f.get(d).get(q[l]!).mem(load, alignE).mem(store, alignE, l * es);
    f.get(q[l]!).get(t[l]!).op('i32.add').set(q[l]!);
  }
  f.get(d).i32c(R * es).op('i32.add').set(d);
  f.get(k).i32c(1).op('i32.sub').tee(k).brIf(0);
  f.end();
  f.end();
  f.end();

  f.get(p0).i32c(R).op('i32.add').set(p0);
  f.br(0);
  f.end().end(); // panels
}
