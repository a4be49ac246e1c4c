/**
 * Elementwise kernels over 16-bit operands, fused tile by tile: each innermost row of the output
 * is cut into tiles of `TILE` elements; a tile of every 16-bit input is converted into a small
 * float32 buffer (which stays in L1/L2), the float32 kernel — JavaScript or WebAssembly SIMD,
 * whichever float32 would use — runs on the tiles, and the output tile is rounded back into the
 * 16-bit storage. No buffer of the tensor's size is made, and each element is converted once on
 * its way in and once on its way out.
 *
 * The arithmetic is exactly the whole-tensor bridge's (`half-storage.ts`): the same float32
 * kernel on the same exact float32 values, then one round-to-nearest-even per element, so results
 * are bit-identical to it. Geometries whose rows are too short to repay a kernel call per tile
 * (a column walk, tiny tensors) go to the bridge.
 */
import { isHalfDType, type ElementwiseKernel, type ElementwiseSpec, type HalfDType, type View } from '@nabla/core';
import { NARROW_ROW, WIDEN_ROW, wordsOf } from './half-convert.js';
import { CpuStorage } from './storage.js';
import { elementwiseGeometry, forEachRow, numelOf } from './strided.js';

/** Elements per tile: a few operands of 4096 float32 stay in L2 (and match the wasm kernels' chunk). */
export const TILE = 4096;
/** Rows shorter than this run through the whole-tensor bridge: a kernel call per few elements costs more. */
export const MIN_TILED_ROW = 64;

/** float32 tiles shared by every tiled kernel (kernels never re-enter each other). */
const tiles: { storage: CpuStorage; words: Int32Array }[] = [];
function tile(k: number): { storage: CpuStorage; words: Int32Array } {
  while (tiles.length <= k) {
    const data = new Float32Array(TILE);
    tiles.push({ storage: new CpuStorage('float32', TILE, data), words: wordsOf(data) });
  }
  return tiles[k]!;
}

/** A rank-1 view of `m` elements of `storage` from `offset`, step `stride`. */
function rowView(storage: CpuStorage, dtype: View['dtype'], offset: number, stride: number, m: number): View {
  return { storage, dtype, shape: [m], strides: [stride], offset };
}

/**
 * The tiled kernel for `spec` (which has a 16-bit operand): `f32` is the float32 kernel of the
 * widened spec, `bridge` the whole-tensor kernel for geometries that do not tile well.
 */
export function tiledHalfKernel(spec: ElementwiseSpec, f32: ElementwiseKernel, bridge: ElementwiseKernel): ElementwiseKernel {
  const nIn = spec.inputDtypes.length;
  return (out, inputs, params) => {
    const shape = out.shape;
    if (shape.length === 0 || inputs.length !== nIn) return bridge(out, inputs, params);
    const n = numelOf(shape);
    if (n < MIN_TILED_ROW) return bridge(out, inputs, params);
    const g = elementwiseGeometry(spec.name, out, inputs);
    const last = g.shape.length - 1;
    const inner = g.shape[last]!;
    if (inner < MIN_TILED_ROW) return bridge(out, inputs, params);
    const step = g.strides.map((s) => s[last]!);
    const offsets = [out.offset];
    for (const v of inputs) offsets.push(v.offset);

    const outHalf = isHalfDType(out.dtype) ? (out.dtype as HalfDType) : null;
    const outBits = (out.storage as CpuStorage).data as Uint16Array;
    const outTile = tile(0);
    const views: View[] = new Array<View>(nIn);
    forEachRow(g.shape, g.strides, offsets, (bases, len) => {
      for (let c0 = 0; c0 < len; c0 += TILE) {
        const m = Math.min(TILE, len - c0);
        for (let k = 0; k < nIn; k++) {
          const v = inputs[k]!;
          const s = step[k + 1]!;
          const p = bases[k + 1]! + c0 * s;
          if (!isHalfDType(v.dtype)) {
            views[k] = rowView(v.storage as CpuStorage, v.dtype, p, s, m);
            continue;
          }
          const t = tile(k + 1);
          // A broadcast input is one element: converted once, read with step 0.
          WIDEN_ROW[v.dtype](((v.storage as CpuStorage).data as Uint16Array), p, s, t.words, 0, 1, s === 0 ? 1 : m);
          views[k] = rowView(t.storage, 'float32', 0, s === 0 ? 0 : 1, m);
        }
        const so = step[0]!;
        const po = bases[0]! + c0 * so;
        if (outHalf === null) {
          f32(rowView(out.storage as CpuStorage, out.dtype, po, so, m), views, params);
        } else {
          f32(rowView(outTile.storage, 'float32', 0, 1, m), views, params);
          NARROW_ROW[outHalf](outTile.words, 0, 1, outBits, po, so, m);
        }
      }
    });
  };
}
