/**
 * The WebGL backend: storages are pooled float textures, every kernel is a gpu.js kernel on one
 * GL context (headless-gl in Node, WebGL2 in browsers). Elementwise ops are compiled from core's
 * expressions (one kernel per expression, dtypes and rank; a new shape reuses it).
 */
import {
  numelOf,
  type Backend,
  type DType,
  type ElementwiseKernel,
  type ElementwiseSpec,
  type Expr,
  type KernelName,
  type KernelSignatures,
  type Storage,
  type TypedArray,
  type View,
} from '@nabla/core';
import { classOf, GlDevice, textureBytes, type DeviceInfo, type DeviceOptions } from './device.js';
import { fromFloat32, isWebGLDType, toFloat32, WEBGL_DTYPES } from './dtypes.js';
import { compileExpr, type GlslFunction } from './glsl/expr.js';
import type { GpuTexture } from './gpujs.js';
import { copySpec } from './kernels/copy.js';
import type { KernelContext } from './kernels/context.js';
import { gather, scatter, scatterAdd } from './kernels/gather.js';
import { addmm, bmm } from './kernels/matmul.js';
import { argReduce, reduce } from './kernels/reduce.js';
import { scan } from './kernels/scan.js';
import { softmaxAlong } from './kernels/softmax.js';
import { sort } from './kernels/sort.js';
import { geometryArgs, mapGeometry, mappedSource } from './mapped.js';
import { probeFloatTextures } from './probe.js';
import { GlStorage } from './storage.js';

export interface WebGLBackendOptions extends DeviceOptions {}

/** What `backendInfo()` reports: the GL context and the gpu.js kernel class that actually ran. */
export interface WebGLBackendInfo extends DeviceInfo {
  /** Kernels compiled so far. */
  compiledKernels: number;
  /** Textures held by live storages and scratch. */
  liveTextures: number;
}

/**
 * The dtypes each structured kernel is registered for: every kernel of core's contract (the type
 * says so: a kernel core adds later fails to compile here until it has an entry).
 */
export const KERNEL_DTYPES: { readonly [K in KernelName]: readonly DType[] } = {
  sum: ['float32', 'int32', 'bool'],
  prod: ['float32', 'int32', 'bool'],
  max: ['float32', 'int32', 'bool'],
  min: ['float32', 'int32', 'bool'],
  argmax: ['float32', 'int32'],
  argmin: ['float32', 'int32'],
  bmm: ['float32', 'int32'],
  addmm: ['float32', 'int32'],
  gather: ['float32', 'int32', 'bool'],
  scatterAdd: ['float32', 'int32', 'bool'],
  scatter: ['float32', 'int32', 'bool'],
  softmax: ['float32'],
  logSoftmax: ['float32'],
  sort: ['float32', 'int32', 'bool'],
  cumsum: ['float32', 'int32', 'bool'],
  cumprod: ['float32', 'int32', 'bool'],
};

export class WebGLBackend implements Backend {
  readonly device = 'webgl';
  readonly dtypes: readonly DType[] = WEBGL_DTYPES;
  readonly readsSync = true;
  readonly kernels: KernelSignatures;
  private readonly ctx: KernelContext;
  private readonly compiled = new Map<string, GlslFunction>();

  private constructor(readonly dev: GlDevice) {
    const self = this;
    this.ctx = {
      dev,
      temp: (n) => this.allocate('float32', n),
      release: (s) => this.release(s),
      runInto: (s, _what, run) => this.replace(s, run(s.cls)),
      copy: (out, src) => this.elementwise(copySpec(src.dtype, out.dtype), out, [src], []),
      readSync: (v) => this.readSync(v),
      elementwise(name: string, key: string, expr: Expr, out: View, inputs: readonly View[], params: readonly number[], inputDtypes: readonly DType[]) {
        const spec: ElementwiseSpec = { name, expr, inputDtypes, outDtype: out.dtype, computeDtype: 'float32', numParams: params.length, key: `${key}:${inputDtypes.join(',')}>${out.dtype}` };
        self.elementwise(spec, out, inputs, params);
      },
    };
    const c = this.ctx;
    this.kernels = {
      sum: (out, x, axes) => reduce(c, 'sum', out, x, axes),
      prod: (out, x, axes) => reduce(c, 'prod', out, x, axes),
      max: (out, x, axes) => reduce(c, 'max', out, x, axes),
      min: (out, x, axes) => reduce(c, 'min', out, x, axes),
      argmax: (out, x, axes) => argReduce(c, 'argmax', out, x, axes),
      argmin: (out, x, axes) => argReduce(c, 'argmin', out, x, axes),
      bmm: (out, a, b) => bmm(c, out, a, b),
      addmm: (out, bias, a, b, beta, alpha) => addmm(c, out, bias, a, b, beta, alpha),
      gather: (out, x, dim, index) => gather(c, out, x, dim, index),
      scatterAdd: (out, dim, index, src) => scatterAdd(c, out, dim, index, src),
      scatter: (out, dim, index, src) => scatter(c, out, dim, index, src),
      softmax: (out, x, dim) => softmaxAlong(c, 'softmax', out, x, dim),
      logSoftmax: (out, x, dim) => softmaxAlong(c, 'logSoftmax', out, x, dim),
      sort: (values, indices, x, dim, descending) => sort(c, values, indices, x, dim, descending),
      cumsum: (out, x, dim, reverse) => scan(c, 'cumsum', out, x, dim, reverse),
      cumprod: (out, x, dim, reverse) => scan(c, 'cumprod', out, x, dim, reverse),
    };
  }

  /** Makes the GL context, then refuses to start unless float textures round-trip exactly. */
  static async create(options: WebGLBackendOptions = {}): Promise<WebGLBackend> {
    const dev = await GlDevice.create(options);
    const b = new WebGLBackend(dev);
    try {
      probeFloatTextures(b);
    } catch (e) {
      b.dispose();
      throw e;
    }
    return b;
  }

  /** The GL context, renderer and the gpu.js kernel class that ran the last kernel. */
  backendInfo(): WebGLBackendInfo {
    return { ...this.dev.info, kernelClass: this.dev.lastKernelClass, compiledKernels: this.dev.compiles, liveTextures: this.dev.liveTextures };
  }

  describe(): string {
    const i = this.backendInfo();
    return `webgl (gpu.js ${i.kernelClass}, mode ${i.mode}, on ${i.renderer}; ${i.glVersion})`;
  }

  allocate(dtype: DType, numel: number): GlStorage {
    if (!isWebGLDType(dtype)) {
      throw new Error(
        `webgl: unsupported dtype '${String(dtype)}' (the webgl device holds ${WEBGL_DTYPES.join(', ')}: ` +
          `WebGL has float32 textures only, no 64-bit floats)`,
      );
    }
    if (!Number.isSafeInteger(numel) || numel < 0) throw new Error(`webgl: cannot allocate ${numel} elements`);
    if (numel > 2 ** 24) throw new Error(`webgl: cannot allocate ${numel} elements (the webgl device indexes storages in float32: at most 2^24 elements)`);
    const cls = classOf(numel);
    const tex = this.dev.takeTexture(cls);
    return new GlStorage(dtype, numel, cls, tex, textureBytes(cls));
  }

  release(storage: Storage): void {
    const s = this.own(storage, 'release');
    if (s.released) throw new Error('webgl: storage released twice');
    s.released = true;
    this.dev.giveTexture(s.tex);
  }

  write(storage: Storage, data: TypedArray, offset = 0): void {
    const s = this.own(storage, 'write');
    if (s.released) throw new Error('webgl: write to a released storage');
    if (!Number.isInteger(offset) || offset < 0 || offset + data.length > s.numel) {
      throw new Error(`webgl: write of ${data.length} elements at offset ${offset} overflows a storage of ${s.numel}`);
    }
    if (data.length === 0) return;
    // gpu.js uploads an array argument as a texture; a one-element array is uploaded as a number.
    const f = toFloat32(data, s.dtype);
    const values = f.length === 1 ? Float32Array.of(f[0]!, 0) : f;
    const sc = this.dev.kernel('upload', () => ({
      source: `function (o, d, off, n) {
  let p = this.thread.x;
  if (p >= off && p < off + n) {
    return d[p - off];
  }
  return o[p];
}`,
    }));
    this.replace(s, this.dev.run(sc, s.cls, [s.tex, values, offset, data.length], 'write'));
  }

  readSync(view: View): TypedArray {
    const s = this.own(view.storage, 'read');
    if (s.released) throw new Error('webgl: read of a released storage');
    const n = numelOf(view.shape);
    const all = s.tex.toArray();
    const vals = new Float32Array(n);
    if (n > 0) {
      const rank = view.shape.length;
      const idx = new Array<number>(rank).fill(0);
      let off = view.offset;
      for (let k = 0; k < n; k++) {
        vals[k] = all[off]!;
        for (let d = rank - 1; d >= 0; d--) {
          idx[d]!++;
          off += view.strides[d]!;
          if (idx[d]! < view.shape[d]!) break;
          off -= idx[d]! * view.strides[d]!;
          idx[d] = 0;
        }
      }
    }
    return fromFloat32(vals, view.dtype);
  }

  read(view: View): Promise<TypedArray> {
    const gl = this.dev.context as WebGL2RenderingContext;
    // WebGL2 in a browser: wait on a fence instead of stalling the page in readPixels.
    if (typeof gl.fenceSync === 'function' && typeof (globalThis as { window?: unknown }).window !== 'undefined') {
      const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
      gl.flush();
      return new Promise<TypedArray>((resolve, reject) => {
        const poll = (): void => {
          const st = sync ? gl.clientWaitSync(sync, 0, 0) : gl.ALREADY_SIGNALED;
          if (st === gl.TIMEOUT_EXPIRED) {
            setTimeout(poll, 1);
            return;
          }
          if (sync) gl.deleteSync(sync);
          try {
            resolve(this.readSync(view));
          } catch (e) {
            reject(e);
          }
        };
        poll();
      });
    }
    try {
      return Promise.resolve(this.readSync(view));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  compileElementwise(spec: ElementwiseSpec): ElementwiseKernel {
    this.glsl(spec); // compile errors (an op this device lacks) surface now, naming the op
    return (out, inputs, params) => this.elementwise(spec, out, inputs, params);
  }

  private glsl(spec: ElementwiseSpec): GlslFunction {
    let f = this.compiled.get(spec.key);
    if (!f) {
      f = compileExpr(spec.expr, spec.inputDtypes.length, spec.numParams, spec.outDtype);
      this.compiled.set(spec.key, f);
    }
    return f;
  }

  private elementwise(spec: ElementwiseSpec, out: View, inputs: readonly View[], params: readonly number[]): void {
    if (numelOf(out.shape) === 0) return;
    const fn = this.glsl(spec);
    const s = this.own(out.storage, spec.name);
    const g = mapGeometry(spec.name, out, inputs.map((v) => v.strides));
    const rank = g.shape.length;
    const nIn = inputs.length;
    const nP = spec.numParams;
    const sc = this.dev.kernel(`ew:${spec.key}:${rank}`, () => {
      const textures = inputs.map((_, k) => `x${k}`);
      const extra = [...Array.from({ length: nP }, (_, i) => `q${i}`), 'z'];
      const body = [...textures.map((t, k) => `let v${k} = ${t}[a${k}];`), `return nb_k(${[...textures.map((_, k) => `v${k}`), ...extra].join(', ')});`];
      return {
        source: mappedSource(rank, textures, nIn, extra, body),
        nativeFunctions: [{ name: 'nb_k', source: fn.source, returnType: 'Number', argumentTypes: Object.fromEntries(fn.args.map((a) => [a, 'Number'])) }],
      };
    });
    const args: unknown[] = [s.tex, ...inputs.map((v) => this.own(v.storage, spec.name).tex), ...params.slice(0, nP), 0, ...geometryArgs(out, g, inputs.map((v) => v.offset))];
    this.replace(s, this.dev.run(sc, s.cls, args, spec.name));
  }

  /** `s` now holds `t`; its old texture goes back to the pool. */
  private replace(s: GlStorage, t: GpuTexture): void {
    const old = s.tex;
    s.tex = t;
    this.dev.giveTexture(old);
  }

  synchronize(): Promise<void> {
    this.dev.context.finish();
    return Promise.resolve();
  }

  pooledBytes(): number {
    return this.dev.pooledBytes();
  }

  dispose(): void {
    this.dev.destroy();
  }

  private own(storage: Storage, op: string): GlStorage {
    if (!(storage instanceof GlStorage)) throw new Error(`webgl: ${op} of a storage that is not a webgl storage`);
    return storage;
  }
}
