/**
 * The SIMD fill of heap storages (`fill.ts`) against a typed array's own `fill` on ordinary
 * memory: every element size, lengths around the 16- and 64-byte steps of its loops, unaligned
 * starts, special values (NaN, -0, ±Inf, int32 wrap), and nothing stored outside the range.
 */
import { describe, expect, it } from 'vitest';
import { heapFill } from './fill.js';
import { WasmHeap } from './heap.js';

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor;
const CTORS: Ctor[] = [Float32Array, Float64Array, Int32Array, Uint8Array];
const VALUES = [1, 0, -0, -2.5, NaN, Infinity, -Infinity, 2 ** 31 + 5, 1e-40];
const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** The first byte where `a` and `b` differ, or -1. */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('heapFill', () => {
  const heap = new WasmHeap(true);
  for (const Ctor of CTORS) {
    it(`${Ctor.name}: lengths 0-80 and 4099, starts 0-5, special values, the rest untouched`, () => {
      const total = 4099 + 8;
      const block = heap.allocStorage(Ctor as never, total)!;
      const view = block.view as unknown as InstanceType<Ctor>;
      const lengths = [...Array.from({ length: 81 }, (_, i) => i), 4099];
      for (const value of VALUES) {
        for (const n of lengths) {
          for (const from of [0, 1, 2, 3, 5]) {
            if (from + n > total) continue;
            const want = new Ctor(total);
            want.fill(7 as never);
            want.fill(value as never, from, from + n);
            view.fill(7 as never);
            heapFill(heap, view, from, n, value);
            const at = firstDiff(bytesOf(view), bytesOf(want));
            if (at >= 0) expect.fail(`${Ctor.name} fill ${value}, ${n} from ${from}: byte ${at} differs`);
          }
        }
      }
      heap.releaseStorage(block.block);
    });
  }
});
