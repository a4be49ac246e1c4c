/**
 * A storage is a float texture from the device's pool, replaced (not written) by every kernel
 * that writes it: fragment shaders cannot write the texture they read, so each write renders a
 * fresh pooled texture and gives the old one back.
 */
import type { DType, Storage } from '@nabla/core';
import type { GpuTexture } from './gpujs.js';

export class GlStorage implements Storage {
  released = false;
  constructor(
    readonly dtype: DType,
    readonly numel: number,
    /** The texture's size class (elements): `classOf(numel)`. */
    readonly cls: number,
    public tex: GpuTexture,
    /** Bytes of GPU memory the texture takes (RGBA float32 texels), not `numel * itemsize`. */
    readonly byteLength: number,
  ) {}
}
