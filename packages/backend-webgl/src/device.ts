/**
 * The GL device under the backend: one gpu.js instance on one GL context (headless-gl in Node,
 * WebGL2 in browsers), a cache of compiled kernels, and a pool of float textures that every
 * kernel renders into.
 */
import { sizeClass } from '@nabla/core';
import { helperSource } from './glsl/math.js';
import { gpu, isGlKernel, patchKernel, textureSize, type GpuInstance, type GpuTexture, type KernelSettings, type KernelShortcut, type NativeFunction } from './gpujs.js';

/** The smallest texture class: 64 floats. */
export const MIN_CLASS = 64;

export interface DeviceOptions {
  /**
   * gpu.js mode. Default: `'headlessgl'` in Node, `'webgl2'` in browsers. Anything that is not
   * a GL kernel (`'cpu'`, `'webasm'`, or `'gpu'` resolving to one of them) is refused at install.
   */
  mode?: string;
  /** Cap of the texture pool in bytes (default 256 MiB; 0 disables pooling). */
  maxPooledBytes?: number;
}

/**
 * Refuses an option of the wrong kind before any GL context is made, naming it, what it got and
 * what it takes: `maxPooledBytes: '100'` used to compare as a number, `-1` to turn pooling off.
 */
export function checkOptions(options: DeviceOptions): void {
  const { mode, maxPooledBytes: max } = options;
  if (mode !== undefined && typeof mode !== 'string') throw new Error(`webgl backend: mode must be a gpu.js mode name (a string), got ${typeof mode} ${String(mode)}`);
  if (max !== undefined && !(typeof max === 'number' && max >= 0)) throw new Error(`webgl backend: maxPooledBytes must be a number of bytes >= 0, got ${typeof max} ${String(max)}`);
}

/** What ran the kernels, for `backendInfo()` and test logs. */
export interface DeviceInfo {
  /** gpu.js mode (`headlessgl`, `webgl2`, `webgl`). */
  mode: string;
  /** The gpu.js kernel class that ran the last kernel (`HeadlessGLKernel`, `WebGL2Kernel`, ...). */
  kernelClass: string;
  /** `UNMASKED_RENDERER_WEBGL` when exposed (e.g. `llvmpipe (LLVM 15.0.6, 256 bits)`, SwiftShader), else `RENDERER`. */
  renderer: string;
  vendor: string;
  /** `VERSION` of the context (`WebGL 1.0 ...`, `WebGL 2.0 ...`). */
  glVersion: string;
  maxTextureSize: number;
}

export interface KernelSpec {
  source: string;
  loopMaxIterations?: number;
  nativeFunctions?: NativeFunction[];
  /** GLSL helpers (`glsl/math.ts`) the native functions call, emitted before the first one. */
  helpers?: readonly string[];
}

function isNode(): boolean {
  return typeof process !== 'undefined' && !!process.versions?.node && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

/**
 * Loads headless-gl and checks that it can make a context, with messages that say what to do.
 * Returns the GL driver behind headless-gl's ANGLE (which reports only "ANGLE"), read from the
 * libraries the process has loaded: Mesa's `swrast_dri.so` with LLVM is llvmpipe.
 */
async function checkHeadlessGl(): Promise<string | null> {
  // A computed specifier: browser bundles must not try to resolve a Node builtin.
  const nodeModule = 'node:module';
  const { createRequire } = (await import(nodeModule)) as typeof import('node:module');
  const req = createRequire(import.meta.url);
  let factory: (w: number, h: number, o?: object) => WebGLRenderingContext | null;
  try {
    factory = req('gl') as typeof factory;
  } catch (e) {
    throw new Error(
      `webgl: the native 'gl' package (headless-gl) is not installed or did not build (${(e as Error).message.split('\n')[0]}). ` +
        `It is an optional dependency built from source: install pkg-config, libx11-dev, libxi-dev, libxext-dev and ` +
        `libgl1-mesa-dev (Debian), then run 'npm rebuild gl'.`,
    );
  }
  const gl = factory(1, 1, { preserveDrawingBuffer: true });
  if (!gl) {
    const display = process.env['DISPLAY'];
    throw new Error(
      `webgl: headless-gl could not create a GL context (DISPLAY=${display ?? 'unset'}): it needs an X server; ` +
        `run under 'xvfb-run -a' (Debian: apt-get install xvfb xauth)`,
    );
  }
  let driver: string | null = null;
  try {
    const fs = req('node:fs') as typeof import('node:fs');
    const libs = new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5] ?? ''));
    const dri = [...libs].filter((p) => /\/dri\/[^/]+_dri\.so$|libgallium/.test(p)).map((p) => p.split('/').pop()!);
    const llvm = [...libs].some((p) => /libLLVM/.test(p));
    if (dri.length) driver = `${dri.join(', ')}${llvm && dri.some((d) => d.startsWith('swrast')) ? ' = Mesa llvmpipe' : ''}`;
  } catch {
    // not Linux: the renderer string is all there is
  }
  const destroy = gl.getExtension('STACKGL_destroy_context') as { destroy(): void } | null;
  destroy?.destroy();
  return driver;
}

export class GlDevice {
  readonly gpu: GpuInstance;
  private readonly kernels = new Map<string, KernelShortcut>();
  private readonly pool = new Map<number, GpuTexture[]>();
  private pooled = 0;
  private readonly maxPooled: number;
  private zero: KernelShortcut;
  private gl!: WebGLRenderingContext;
  /** Kernels compiled so far (tests check that a new shape costs no compile). */
  compiles = 0;
  /** Live textures handed out by the pool (owned by storages or in flight). */
  liveTextures = 0;
  lastKernelClass = 'none';
  info!: DeviceInfo;

  private constructor(g: GpuInstance, options: DeviceOptions) {
    this.gpu = g;
    this.maxPooled = options.maxPooledBytes ?? 256 * 1024 * 1024;
    this.zero = this.kernel('zero', () => ({ source: 'function (z) { return z; }' }));
  }

  static async create(options: DeviceOptions = {}): Promise<GlDevice> {
    checkOptions(options);
    const node = isNode();
    const mode = options.mode ?? (node ? 'headlessgl' : 'webgl2');
    const driver = node && mode === 'headlessgl' ? await checkHeadlessGl() : null;
    let g: GpuInstance;
    try {
      g = new gpu.GPU({ mode });
    } catch (e) {
      throw new Error(`webgl: gpu.js cannot run mode '${mode}' here: ${(e as Error).message}`);
    }
    const dev = new GlDevice(g, options);
    try {
      // Building the first kernel makes the context; everything after shares it.
      const t = dev.allocTexture(MIN_CLASS);
      dev.dropTexture(t);
      const gl = dev.zero.kernel.context;
      if (!gl) throw new Error('webgl: gpu.js made no GL context');
      dev.gl = gl;
      const ctx = describeContext(gl);
      if (driver) ctx.renderer = `${ctx.renderer} over ${driver}`;
      dev.info = { mode: g.mode, kernelClass: dev.lastKernelClass, ...ctx };
    } catch (e) {
      dev.destroy();
      throw e;
    }
    return dev;
  }

  get context(): WebGLRenderingContext {
    return this.gl;
  }

  /** The cached kernel for `key`, compiled by `make` on first use. */
  kernel(key: string, make: () => KernelSpec): KernelShortcut {
    let k = this.kernels.get(key);
    if (k) return k;
    const spec = make();
    const settings: KernelSettings = {
      output: [MIN_CLASS],
      pipeline: true,
      immutable: false,
      dynamicOutput: true,
      dynamicArguments: true,
      precision: 'single',
      tactic: 'precision',
      loopMaxIterations: spec.loopMaxIterations ?? 1000,
      fixIntegerDivisionAccuracy: false,
      strictIntegers: false,
    };
    if (spec.nativeFunctions) {
      // All GLSL in the first native function, in order (gpu.js emits native functions in its
      // own order, and they call each other and the helpers).
      const all = [helperSource(spec.helpers ?? []), ...spec.nativeFunctions.map((f) => f.source)].join('\n');
      const fns = spec.nativeFunctions.map((f, i) => ({ ...f, source: i === 0 ? all : '' }));
      settings.nativeFunctions = fns;
    }
    k = this.gpu.createKernel(spec.source, settings);
    this.kernels.set(key, k);
    this.compiles++;
    return k;
  }

  /**
   * Runs `sc` over `cls` output elements into a fresh texture from the pool and returns it.
   * Throws, returning the texture, if gpu.js ran anything but a GL kernel.
   */
  run(sc: KernelShortcut, cls: number, args: readonly unknown[], what: string): GpuTexture {
    const out = this.takeTexture(cls);
    try {
      let k = sc.kernel;
      this.checkGl(sc, what);
      patchKernel(k);
      if (k.output[0] !== cls) {
        k.texture = null; // setOutput deletes the texture it holds: never one a storage owns
        k.setOutput([cls]);
      }
      k.texture = out;
      k._textureSwitched = true;
      let r: unknown;
      try {
        r = sc(...args);
      } catch (e) {
        // A fallback kernel (CPU) may throw on the GL textures it is handed: say what happened.
        if (!isGlKernel(sc.kernel) || sc.kernel.fallbackRequested) this.checkGl(sc, what, e);
        throw e;
      }
      k = sc.kernel;
      this.checkGl(sc, what);
      if (r !== out) throw new Error(`webgl: gpu.js kernel '${what}' rendered into a texture the backend did not give it`);
      return out;
    } catch (e) {
      this.dropTexture(out);
      throw e;
    }
  }

  private checkGl(sc: KernelShortcut, what: string, cause?: unknown): void {
    const k = sc.kernel;
    if (!isGlKernel(k) || k.fallbackRequested) {
      // gpu.js swaps the kernel for good: forget it, so the next call compiles a GL kernel again.
      for (const [key, v] of this.kernels) if (v === sc) this.kernels.delete(key);
      const why = sc.fallbackReason ?? k.fallbackReason;
      const ran = isGlKernel(k) ? `fell back from its ${k.constructor.name} to its CPU kernel for '${what}'` : `ran kernel '${what}' on its ${k.constructor.name}, not on a GL kernel`;
      throw new Error(
        `webgl: gpu.js ${ran}${why ? ` (${why})` : ''}; the webgl device refuses to run on a CPU or WebAssembly fallback`,
        cause === undefined ? undefined : { cause },
      );
    }
    this.lastKernelClass = k.constructor.name;
  }

  /** A texture of class `cls` (a size class of `sizeClass(numel, MIN_CLASS)`), from the pool when it has one. */
  takeTexture(cls: number): GpuTexture {
    const list = this.pool.get(cls);
    const t = list?.pop();
    if (t) {
      this.pooled -= textureBytes(cls);
      this.liveTextures++;
      return t;
    }
    return this.allocTexture(cls);
  }

  /** Gives a texture back to the pool (or to GL when the pool is full). */
  giveTexture(t: GpuTexture): void {
    const cls = t.output[0]!;
    const bytes = textureBytes(cls);
    this.liveTextures--;
    if (this.pooled + bytes > this.maxPooled) {
      t.delete();
      return;
    }
    let list = this.pool.get(cls);
    if (!list) this.pool.set(cls, (list = []));
    list.push(t);
    this.pooled += bytes;
  }

  private dropTexture(t: GpuTexture): void {
    this.liveTextures--;
    t.delete();
  }

  pooledBytes(): number {
    return this.pooled;
  }

  /** Frees every parked texture. */
  trimPool(): void {
    for (const list of this.pool.values()) for (const t of list) t.delete();
    this.pool.clear();
    this.pooled = 0;
  }

  private allocTexture(cls: number): GpuTexture {
    const k = this.zero.kernel;
    k.texture = null; // the zero kernel hands every texture it makes away: it must not delete one
    if (!k.built) {
      k.setOutput([cls]);
      this.zero(0);
    } else {
      k.setOutput([cls]);
    }
    this.checkGl(this.zero, 'allocate');
    const t = k.texture;
    k.texture = null;
    if (!t) throw new Error(`webgl: gpu.js made no texture for ${cls} elements`);
    this.liveTextures++;
    return t;
  }

  destroy(): void {
    this.trimPool();
    for (const k of this.kernels.values()) {
      k.kernel.texture = null; // textures belong to storages and the pool, not to kernels
      try {
        k.kernel.destroy();
      } catch {
        // a kernel that never built has nothing to free
      }
    }
    this.kernels.clear();
  }
}

/** Bytes of a texture of class `cls`: RGBA float32 texels, one value each (gpu.js single precision). */
export function textureBytes(cls: number): number {
  const [w, h] = textureSize(cls);
  return w * h * 16;
}

export function classOf(numel: number): number {
  return sizeClass(Math.max(numel, 1), MIN_CLASS);
}

function describeContext(gl: WebGLRenderingContext): Omit<DeviceInfo, 'mode' | 'kernelClass'> {
  const dbg = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number; UNMASKED_VENDOR_WEBGL: number } | null;
  const renderer = String(dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  const vendor = String(dbg ? gl.getParameter(dbg.UNMASKED_VENDOR_WEBGL) : gl.getParameter(gl.VENDOR));
  return { renderer, vendor, glVersion: String(gl.getParameter(gl.VERSION)), maxTextureSize: Number(gl.getParameter(gl.MAX_TEXTURE_SIZE)) };
}
