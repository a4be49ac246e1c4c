/**
 * The narrow slice of gpu.js this backend uses, typed here once, and the two places where the
 * backend steps around gpu.js's own texture management:
 *
 * - gpu.js gives each pipeline kernel one output texture, sized by the kernel's output, and
 *   (immutable mode) allocates a fresh GL texture whenever an earlier result is still referenced.
 *   The backend instead renders every kernel into a texture from its own pool: before a run it
 *   hands the kernel that texture (`texture` + `_textureSwitched`, which makes gpu.js re-attach it
 *   to the framebuffer), and the kernel's `_setupOutputTexture` is replaced on the instance so a
 *   resize (`setOutput`) never allocates or deletes a texture the pool owns.
 * - gpu.js silently replaces a kernel it cannot build for GL by its CPU kernel (and, without a
 *   display, `mode: 'gpu'` silently picks its WebAssembly kernel). After every run the backend
 *   checks the class of the kernel that actually ran.
 *
 * Pinned to gpu.js 2.24.1 (package.json), whose internals these are; `gpujs.test.ts` fails if they
 * move, and every GL test exercises them.
 */
import gpujs from 'gpu.js';

/** A gpu.js GL texture (GLTextureFloat for `precision: 'single'`). */
export interface GpuTexture {
  texture: object;
  size: ArrayLike<number>;
  output: number[];
  dimensions: ArrayLike<number>;
  kernel: GpuKernel;
  _deleted: boolean;
  toArray(): Float32Array;
  delete(): void;
}

/** A gpu.js kernel instance (WebGLKernel, WebGL2Kernel, HeadlessGLKernel, or a fallback). */
export interface GpuKernel {
  built: boolean;
  output: number[];
  texture: GpuTexture | null;
  _textureSwitched?: boolean;
  _nablaPatched?: boolean;
  context: WebGLRenderingContext | null;
  constructor: { name: string };
  setOutput(output: number[]): void;
  _setupOutputTexture(): void;
  destroy(removeCanvasReferences?: boolean): void;
  fallbackReason?: string;
  /** Set by gpu.js when the kernel asked for its CPU replacement (before the swap, which may fail). */
  fallbackRequested?: boolean;
}

/** What `gpu.createKernel` returns: a callable that also exposes the kernel that runs. */
export interface KernelShortcut {
  (...args: unknown[]): unknown;
  kernel: GpuKernel;
  fallbackReason?: string;
}

export interface NativeFunction {
  name: string;
  source: string;
  returnType: string;
  argumentTypes: Record<string, string>;
}

export interface KernelSettings {
  output: number[];
  pipeline: boolean;
  immutable: boolean;
  dynamicOutput: boolean;
  dynamicArguments: boolean;
  precision: 'single';
  tactic: 'precision';
  loopMaxIterations: number;
  fixIntegerDivisionAccuracy: boolean;
  strictIntegers: boolean;
  argumentTypes?: Record<string, string>;
  nativeFunctions?: NativeFunction[];
}

export interface GpuInstance {
  mode: string;
  context: WebGLRenderingContext | null;
  Kernel: { name: string };
  createKernel(source: string, settings: KernelSettings): KernelShortcut;
  destroy(): void;
}

interface GpuModule {
  GPU: new (settings: { mode?: string; context?: unknown; canvas?: unknown }) => GpuInstance;
  HeadlessGLKernel: Function;
  WebGL2Kernel: Function;
  WebGLKernel: Function;
  utils: { getKernelTextureSize(settings: object, dims: number[]): Int32Array };
}

export const gpu = gpujs as unknown as GpuModule;

/** The gpu.js kernel classes that run on a GL context. */
export function isGlKernel(k: GpuKernel): boolean {
  return k instanceof gpu.WebGLKernel || k instanceof gpu.WebGL2Kernel || k instanceof gpu.HeadlessGLKernel;
}

/** The texture size gpu.js uses for a one-dimensional output of `n` float elements. */
export function textureSize(n: number): [number, number] {
  const s = gpu.utils.getKernelTextureSize({ optimizeFloatMemory: false, precision: 'single' }, [n, 1, 1]);
  return [s[0]!, s[1]!];
}

/**
 * Makes a kernel instance render into the texture it is handed instead of one it allocates:
 * `_setupOutputTexture` (called by `build` and `setOutput`) only attaches a texture that is there.
 */
export function patchKernel(k: GpuKernel): void {
  if (k._nablaPatched) return;
  k._setupOutputTexture = function (this: GpuKernel) {
    const gl = this.context;
    if (this.texture && gl) gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, this.texture.texture as WebGLTexture, 0);
  };
  k._nablaPatched = true;
}
