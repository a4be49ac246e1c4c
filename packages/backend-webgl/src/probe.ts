/**
 * The install-time check that float textures really hold float32 (as tfjs-backend-webgl does):
 * values that an 8-bit or half-float texture would round are written, copied by a kernel (so the
 * render-to-float path is exercised too) and read back; any difference refuses the device.
 */
import type { WebGLBackend } from './backend.js';
import { copySpec } from './kernels/copy.js';

/** Known values: 8-bit or fp16 storage would change every one but 0 and ±1. */
export const PROBE_VALUES: readonly number[] = [0, 1, -1, 0.1, 1 / 3, Math.PI, -2.5e-30, 3.0e38, 16777215, -16777216, 65504.5, 1e-5, 123456.789];

export function probeFloatTextures(b: WebGLBackend): void {
  const src = b.allocate('float32', PROBE_VALUES.length);
  const dst = b.allocate('float32', PROBE_VALUES.length);
  try {
    const values = Float32Array.from(PROBE_VALUES);
    b.write(src, values);
    const view = (s: typeof src) => ({ storage: s, dtype: s.dtype, shape: [s.numel], strides: [1], offset: 0 });
    b.compileElementwise(copySpec('float32', 'float32'))(view(dst), [view(src)], []);
    const got = b.readSync(view(dst));
    for (let i = 0; i < values.length; i++) {
      if (!Object.is(got[i], values[i])) {
        throw new Error(
          `webgl: this GL context has no usable float32 textures: the install probe wrote ${values[i]} and read back ${got[i]} ` +
            `(renderer ${b.backendInfo().renderer}). The webgl device needs OES_texture_float and float render targets ` +
            `(WebGL2 or WebGL1 with WEBGL_color_buffer_float); it never packs values into 8-bit textures.`,
        );
      }
    }
  } finally {
    b.release(src);
    b.release(dst);
  }
}
