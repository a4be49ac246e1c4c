/**
 * Emits the GEMM macro-kernel: C[mc×nc] (+)= Ã·B̃ over packed panels, with a register-blocked
 * SIMD micro-kernel.
 *
 * Layout (elements): Ã holds mc/MR panels, each kc×MR (column k of the panel's MR rows is
 * contiguous); B̃ holds nc/NR panels, each kc×NR. C is row-major with leading dimension `ldc`.
 * mc and nc are multiples of MR and NR (the packer zero-pads), so there are no edge cases here.
 *
 * The micro-kernel keeps MR × NR/lanes accumulators in v128 locals (f32: 4×8 → 8 vectors;
 * f64: 4×4 → 8 vectors), loads NR/lanes vectors of B̃ and splats each A element once per k:
 * 8 multiply-adds per 2 B loads and 4 splats (each a mul then an add, or one relaxed-SIMD madd:
 * `fma`). Loop order is BLIS's: the jr loop outside, so a B̃ micro-panel (kc×NR, 16 KiB at
 * kc=512 for f32) stays in L1 while the ir loop streams Ã from L2.
 */
import { ModuleBuilder, ValType, type SimdOp } from './emitter.js';

export interface GemmShape {
  readonly dtype: 'float32' | 'float64';
  readonly MR: number;
  readonly NR: number;
  /** k steps per loop iteration (1, 2 or 4). */
  readonly unroll?: number;
  /** Multiply-add with relaxed SIMD's `relaxed_madd` (one FMA where the CPU has it) instead of mul then add. */
  readonly fma?: boolean;
}

/** Cache blocks (elements): KC deep (a B micro-panel of KC×NR in L1), MC rows of A (L2), NC columns of B (L3). */
export const KC = 512;
export const MC = 64;
export const NC = 1024;

export const GEMM_F32: GemmShape = { dtype: 'float32', MR: 4, NR: 8 };
export const GEMM_F64: GemmShape = { dtype: 'float64', MR: 4, NR: 4 };

let relaxedMadd: boolean | undefined;

/**
 * Whether this engine compiles relaxed SIMD's `relaxed_madd` (Chrome 114+, Node 22+; Node 20
 * with `--experimental-wasm-relaxed-simd`). With it the micro-kernel's mul-then-add becomes one
 * instruction (an FMA on x64 CPUs with FMA3 and on ARM64): fewer instructions per k step and one
 * rounding per multiply-add, ~20% more GFLOP/s in cache (`README.md`).
 *
 * @example
 * ```ts
 * import { hasRelaxedMadd } from '@nabla/backend-cpu';
 * console.log(hasRelaxedMadd()); // Node 20: false; Node 20 --experimental-wasm-relaxed-simd, Node 22+, Chrome 114+: true
 * ```
 */
export function hasRelaxedMadd(): boolean {
  if (relaxedMadd !== undefined) return relaxedMadd;
  const mod = new ModuleBuilder({ initial: 1 });
  const f = mod.func('probe', [], [ValType.v128]);
  f.f32x4c(1).f32x4c(2).f32x4c(3).simd('f32x4.relaxed_madd');
  try {
    relaxedMadd = typeof WebAssembly === 'object' && WebAssembly.validate(mod.encode() as Uint8Array<ArrayBuffer>);
  } catch {
    relaxedMadd = false;
  }
  return relaxedMadd;
}

/** Adds `gemm_<dtype>(a, b, c, mc, nc, kc, ldc, accumulate)` (byte pointers) to `mod`. */
export function emitGemm(mod: ModuleBuilder, s: GemmShape): void {
  const i32 = ValType.i32;
  const f = mod.func(`gemm_${s.dtype}`, [i32, i32, i32, i32, i32, i32, i32, i32]);
  const [A, B, C, MC, NC, KC, LDC, ACC] = [0, 1, 2, 3, 4, 5, 6, 7];
  const es = s.dtype === 'float32' ? 4 : 8;
  const lanes = 16 / es;
  const nv = s.NR / lanes;
  const add: SimdOp = s.dtype === 'float32' ? 'f32x4.add' : 'f64x2.add';
  const mul: SimdOp = s.dtype === 'float32' ? 'f32x4.mul' : 'f64x2.mul';
  const madd: SimdOp = s.dtype === 'float32' ? 'f32x4.relaxed_madd' : 'f64x2.relaxed_madd';
  const splat = s.dtype === 'float32' ? 'v128.load32_splat' : 'v128.load64_splat';
  const alignE = es === 4 ? 2 : 3;

  const jr = f.local(i32);
  const ir = f.local(i32);
  const pa = f.local(i32);
  const pb = f.local(i32);
  const pc = f.local(i32);
  const row = f.local(i32);
  const k = f.local(i32);
  const ldcB = f.local(i32);
  const panelA = f.local(i32);
  const panelB = f.local(i32);
  const acc: number[][] = [];
  for (let r = 0; r < s.MR; r++) acc.push(Array.from({ length: nv }, () => f.local(ValType.v128)));
  const bv = Array.from({ length: nv }, () => f.local(ValType.v128));
  const av = f.local(ValType.v128);

  // ldcB = ldc * es; panel strides in bytes: kc*MR*es and kc*NR*es.
  f.get(LDC).i32c(es).op('i32.mul').set(ldcB);
  f.get(KC).i32c(s.MR * es).op('i32.mul').set(panelA);
  f.get(KC).i32c(s.NR * es).op('i32.mul').set(panelB);

  const pbCol = f.local(i32);
  const pcCol = f.local(i32);
  const stepC = f.local(i32);
  f.get(ldcB).i32c(s.MR).op('i32.mul').set(stepC);

  f.i32c(0).set(jr);
  f.get(B).set(pbCol);
  f.get(C).set(pcCol);
  f.block().loop(); // jr loop over NR-wide column panels
  f.get(jr).get(NC).op('i32.ge_s').brIf(1);
  f.i32c(0).set(ir);
  f.get(A).set(pa);
  f.get(pcCol).set(pc);
  f.block().loop(); // ir loop over MR-tall row panels
  f.get(ir).get(MC).op('i32.ge_s').brIf(1);

  // Accumulators start from zero; a later k block adds C after its k loop (below). Loading C here
  // made the tile's first k steps wait on C's rows, which are ldc apart (a cache miss each once C
  // outgrows L2), and the out-of-order window does not reach past them (README.md: GEMM).
  for (let r = 0; r < s.MR; r++) for (let v = 0; v < nv; v++) f.f32x4c(0).set(acc[r]![v]!);

  // The k loop, unrolled U times (memarg offsets address the unrolled steps), then the rest.
  const U = s.unroll ?? 1;
  const step = (u: number): void => {
    for (let v = 0; v < nv; v++) f.get(pb).vmem('v128.load', 4, u * s.NR * es + v * 16).set(bv[v]!);
    for (let r = 0; r < s.MR; r++) {
      f.get(row).vmem(splat, alignE, u * s.MR * es + r * es).set(av);
      for (let v = 0; v < nv; v++) {
        if (s.fma === true) f.get(av).get(bv[v]!).get(acc[r]![v]!).simd(madd).set(acc[r]![v]!);
        else f.get(acc[r]![v]!).get(av).get(bv[v]!).simd(mul).simd(add).set(acc[r]![v]!);
      }
    }
  };
  const kLoop = (times: number, count: number): void => {
    // count: a local holding the iterations left (> 0 on entry, checked by the caller)
    f.loop();
    for (let u = 0; u < times; u++) step(u);
    f.get(row).i32c(times * s.MR * es).op('i32.add').set(row);
    f.get(pb).i32c(times * s.NR * es).op('i32.add').set(pb);
    f.get(count).i32c(1).op('i32.sub').tee(count).brIf(0);
    f.end();
  };
  f.get(pa).set(row); // row doubles as the moving A pointer
  f.get(pbCol).set(pb);
  if (U > 1) {
    f.get(KC).i32c(Math.log2(U)).op('i32.shr_u').tee(k).if_();
    kLoop(U, k);
    f.end();
    f.get(KC).i32c(U - 1).op('i32.and').tee(k).if_();
    kLoop(1, k);
    f.end();
  } else {
    f.get(KC).set(k);
    kLoop(1, k);
  }

  f.get(ACC).if_();
  f.get(pc).set(row);
  for (let r = 0; r < s.MR; r++) {
    for (let v = 0; v < nv; v++) f.get(acc[r]![v]!).get(row).vmem('v128.load', 4, v * 16).simd(add).set(acc[r]![v]!);
    if (r < s.MR - 1) f.get(row).get(ldcB).op('i32.add').set(row);
  }
  f.end();
  f.get(pc).set(row);
  for (let r = 0; r < s.MR; r++) {
    for (let v = 0; v < nv; v++) f.get(row).get(acc[r]![v]!).vmem('v128.store', 4, v * 16);
    if (r < s.MR - 1) f.get(row).get(ldcB).op('i32.add').set(row);
  }

  f.get(ir).i32c(s.MR).op('i32.add').set(ir);
  f.get(pa).get(panelA).op('i32.add').set(pa);
  f.get(pc).get(stepC).op('i32.add').set(pc);
  f.br(0);
  f.end().end(); // ir

  f.get(jr).i32c(s.NR).op('i32.add').set(jr);
  f.get(pbCol).get(panelB).op('i32.add').set(pbCol);
  f.get(pcCol).i32c(s.NR * es).op('i32.add').set(pcCol);
  f.br(0);
  f.end().end(); // jr
}
