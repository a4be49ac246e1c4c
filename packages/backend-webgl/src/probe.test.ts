/**
 * The install probe refuses a context whose "float" textures do not hold float32 (no GL context
 * needed: a stand-in backend stores what it is given at 8-bit or half precision).
 */
import type { Storage, TypedArray, View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import type { WebGLBackend } from './backend.js';
import { PROBE_VALUES, probeFloatTextures } from './probe.js';

function standIn(store: (v: number) => number): { backend: WebGLBackend; live: () => number } {
  const data = new Map<Storage, Float32Array>();
  const b = {
    allocate: (dtype: 'float32', numel: number) => {
      const s = { dtype, numel, byteLength: numel * 4 };
      data.set(s, new Float32Array(numel));
      return s;
    },
    release: (s: Storage) => void data.delete(s),
    write: (s: Storage, d: TypedArray) => data.get(s)!.set(Array.from(d, store)),
    readSync: (v: View) => data.get(v.storage)!.slice(),
    compileElementwise: () => (out: View, [src]: View[]) => data.get(out.storage)!.set(Array.from(data.get(src!.storage)!, store)),
    backendInfo: () => ({ renderer: 'stand-in' }),
  };
  return { backend: b as unknown as WebGLBackend, live: () => data.size };
}

describe('the float texture probe', () => {
  it('passes a context that keeps float32 bit-exact', () => {
    const s = standIn((v) => Math.fround(v));
    expect(() => probeFloatTextures(s.backend)).not.toThrow();
    expect(s.live()).toBe(0);
  });

  it('refuses 8-bit storage with a message that says so, leaving nothing allocated', () => {
    const s = standIn((v) => Math.round(Math.min(Math.max(v, 0), 1) * 255) / 255);
    expect(() => probeFloatTextures(s.backend)).toThrow(/no usable float32 textures.*wrote -1 and read back 0.*never packs values into 8-bit/);
    expect(s.live()).toBe(0);
  });

  it('refuses half-float storage', () => {
    const half = (v: number): number => {
      const e = Math.floor(Math.log2(Math.abs(v)));
      return v === 0 || !Number.isFinite(e) ? v : Math.round(v / 2 ** (e - 10)) * 2 ** (e - 10);
    };
    expect(() => probeFloatTextures(standIn(half).backend)).toThrow(/no usable float32 textures/);
    expect(PROBE_VALUES.some((v) => half(v) !== Math.fround(v))).toBe(true);
  });
});
