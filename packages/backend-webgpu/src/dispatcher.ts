/**
 * Records kernels into command buffers and submits them; owns the pipeline cache, the per-dispatch
 * parameters ("meta" words), error reporting and read-back.
 *
 * - Kernels are synchronous calls for core, so a dispatch is only *recorded*: dispatches go into
 *   one compute pass of one command encoder (WebGPU orders them and makes each one's writes
 *   visible to the next) and are submitted together by `flush()` — before a read, a host write
 *   to a buffer the batch uses, or when the meta arena is full.
 * - Meta words (sizes, strides, offsets, scalar params) of every dispatch are appended to one
 *   host array and uploaded with a single `writeBuffer` just before the submit; each dispatch
 *   binds its slice as a read-only storage buffer (binding 0 of every kernel).
 * - Errors are asynchronous on the GPU. Pipeline creation runs inside a validation error scope
 *   (naming the WGSL kernel), a recorded batch inside another (naming the kernels in it), and
 *   device loss is watched. An error that arrives later is thrown by the next kernel call, or
 *   rejects the next `read`/`synchronize`.
 * - Kernels that can fail on data (an index out of range) record it in a small status buffer that
 *   every read-back copies along, so the error surfaces at the next read or synchronize.
 */
import { BUFFER_USAGE, MAP_MODE_READ } from './storage.js';

export type BindingKind = 'read' | 'write';

export interface Kernel {
  /** Shown in errors: `elementwise 'mul' (float32, float32 -> float32)`. */
  readonly name: string;
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /** The bindings after meta (binding 0): one buffer each, in order. */
  readonly bindings: readonly BindingKind[];
  readonly source: string;
  /** Set when the pipeline turned out invalid; using it again throws this. */
  error: Error | null;
}

/** Threads per workgroup of the 1-D kernels (the WebGPU default limit is 256). */
export const WORKGROUP = 256;

const ARENA_BYTES = 1 << 20;
const STATUS_WORDS = 4;
const SHADER_STAGE_COMPUTE = 0x4;

/** What the status words mean; the kernels write code, value, size, dim. */
export const STATUS_CODES: Record<number, string> = { 1: 'gather', 2: 'scatterAdd', 3: 'scatter' };

export class Dispatcher {
  readonly maxGroupsPerDim: number;
  private readonly kernels = new Map<string, Kernel>();
  private readonly arena: GPUBuffer;
  private readonly arenaHost = new Uint32Array(ARENA_BYTES / 4);
  private readonly align: number;
  private arenaUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly used = new Set<GPUBuffer>();
  private batchNames = new Set<string>();
  private destroyQueue: GPUBuffer[] = [];
  private readonly pendingChecks = new Set<Promise<void>>();
  private deferred: Error | null = null;
  private deferredPriority = 0;
  private lost: Error | null = null;
  private disposed = false;
  /** Index errors of gather/scatterAdd: [code, value, size, dim]. */
  readonly status: GPUBuffer;
  /** Dispatches recorded since creation (for tests and benchmarks). */
  dispatches = 0;
  submits = 0;

  /** `maxGroupsPerDim` lowers the device's workgroups-per-dimension limit (tests of 2-D grids). */
  constructor(
    readonly device: GPUDevice,
    maxGroupsPerDim?: number,
  ) {
    const limit = device.limits.maxComputeWorkgroupsPerDimension;
    this.maxGroupsPerDim = maxGroupsPerDim ? Math.max(1, Math.min(limit, maxGroupsPerDim)) : limit;
    this.align = Math.max(4, device.limits.minStorageBufferOffsetAlignment);
    this.arena = device.createBuffer({ label: 'nabla meta arena', size: ARENA_BYTES, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST });
    this.status = device.createBuffer({
      label: 'nabla status',
      size: STATUS_WORDS * 4,
      usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST,
    });
    device.lost.then((info) => {
      // Our own dispose() destroys the device on purpose; anything else (a driver reset, a
      // destroy() by someone holding the GPUDevice) leaves every tensor on it unusable.
      if (this.disposed) return;
      this.lost = new Error(`webgpu: the device was lost (${info.reason || 'unknown reason'}${info.message ? `: ${info.message}` : ''}); tensors on it are gone, make a new backend`);
    });
    const onError = (ev: Event): void => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.defer(new Error(`webgpu: ${err?.message ?? 'uncaptured device error'}`));
    };
    if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', onError);
    else (device as { onuncapturederror: unknown }).onuncapturederror = onError;
  }

  // ---- errors

  /**
   * Keeps the first error, except that a more specific one replaces a consequence of it: an
   * invalid pipeline (priority 2) also fails the batch that uses it (1) and may raise an
   * uncaptured error (0), which usually arrive first.
   */
  private defer(e: Error, priority = 0): void {
    if (this.deferred === null || priority > this.deferredPriority) {
      this.deferred = e;
      this.deferredPriority = priority;
    }
  }

  /** Throws a device loss, or an error that arrived since the last call. */
  throwIfFailed(): void {
    if (this.lost) throw this.lost;
    if (this.disposed) throw new Error('webgpu: the backend was disposed');
    const e = this.deferred;
    if (e) {
      this.deferred = null;
      throw e;
    }
  }

  private track(p: Promise<void>): void {
    this.pendingChecks.add(p);
    void p.finally(() => this.pendingChecks.delete(p));
  }

  /** Waits for outstanding error checks, then throws what they found. */
  async settle(): Promise<void> {
    while (this.pendingChecks.size > 0) await Promise.all([...this.pendingChecks]);
    this.throwIfFailed();
  }

  // ---- kernels

  /**
   * A compute pipeline for the WGSL `source` (entry point `main`), created once per `key`;
   * `source` may be a function, called only on a cache miss.
   */
  kernel(key: string, name: string, source: string | (() => string), bindings: readonly BindingKind[]): Kernel {
    const hit = this.kernels.get(key);
    if (hit) {
      if (hit.error) throw hit.error;
      return hit;
    }
    return this.create(key, name, typeof source === 'string' ? source : source(), bindings);
  }

  private create(key: string, name: string, source: string, bindings: readonly BindingKind[]): Kernel {
    const device = this.device;
    const layout = device.createBindGroupLayout({
      label: name,
      entries: [{ binding: 0, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'read-only-storage' } }].concat(
        bindings.map((b, i) => ({
          binding: i + 1,
          visibility: SHADER_STAGE_COMPUTE,
          buffer: { type: b === 'read' ? 'read-only-storage' : 'storage' },
        })),
      ) as GPUBindGroupLayoutEntry[],
    });
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: name, code: source });
    const pipeline = device.createComputePipeline({
      label: name,
      layout: device.createPipelineLayout({ label: name, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    const kernel: Kernel = { name, pipeline, layout, bindings, source, error: null };
    this.track(
      device.popErrorScope().then(async (err) => {
        if (!err) return;
        let details = '';
        try {
          const info = await module.getCompilationInfo();
          details = info.messages.map((m) => `\n  ${m.type} at line ${m.lineNum}:${m.linePos}: ${m.message}`).join('');
        } catch {
          // Compilation info is a nicety; the scope's message is enough.
        }
        kernel.error = new Error(`webgpu: the WGSL kernel ${name} is invalid: ${err.message}${details}\n--- WGSL ---\n${numbered(source)}`);
        this.defer(kernel.error, 2);
      }),
    );
    this.kernels.set(key, kernel);
    return kernel;
  }

  get numKernels(): number {
    return this.kernels.size;
  }

  // ---- recording

  private ensureEncoder(): GPUCommandEncoder {
    if (this.encoder === null) {
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder({ label: 'nabla batch' });
    }
    return this.encoder;
  }

  private endPass(): void {
    if (this.pass !== null) {
      this.pass.end();
      this.pass = null;
    }
  }

  /**
   * Records `kernel` over `groups` workgroups (a count, laid out in 2-D when it exceeds the
   * per-dimension limit; kernels rebuild the linear id from `num_workgroups`), or an explicit
   * [x, y, z] grid.
   */
  dispatch(kernel: Kernel, meta: ArrayLike<number>, buffers: readonly GPUBuffer[], groups: number | readonly [number, number, number]): void {
    this.throwIfFailed();
    if (kernel.error) throw kernel.error;
    if (buffers.length !== kernel.bindings.length) {
      throw new Error(`webgpu: kernel ${kernel.name} takes ${kernel.bindings.length} buffers, got ${buffers.length}`);
    }
    const grid = typeof groups === 'number' ? this.grid(groups) : groups;
    if (grid[0] === 0 || grid[1] === 0 || grid[2] === 0) return;
    const words = Math.max(1, meta.length);
    const bytes = Math.ceil((words * 4) / this.align) * this.align;
    if (bytes > ARENA_BYTES) throw new Error(`webgpu: kernel ${kernel.name} has ${words} meta words, more than the arena holds`);
    if (this.arenaUsed + bytes > ARENA_BYTES) this.flush();
    const at = this.arenaUsed;
    this.arenaHost.set(meta as ArrayLike<number>, at / 4);
    this.arenaUsed += bytes;

    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: this.arena, offset: at, size: words * 4 } }];
    for (let i = 0; i < buffers.length; i++) {
      entries.push({ binding: i + 1, resource: { buffer: buffers[i]! } });
      this.used.add(buffers[i]!);
    }
    const encoder = this.ensureEncoder();
    const bindGroup = this.device.createBindGroup({ label: kernel.name, layout: kernel.layout, entries });
    this.pass ??= encoder.beginComputePass();
    this.pass.setPipeline(kernel.pipeline);
    this.pass.setBindGroup(0, bindGroup);
    this.pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.batchNames.add(kernel.name);
    this.dispatches++;
  }

  /** A 1-D workgroup count as a grid within the per-dimension limit. */
  grid(groups: number): [number, number, number] {
    if (groups <= this.maxGroupsPerDim) return [groups, 1, 1];
    const x = this.maxGroupsPerDim;
    const y = Math.ceil(groups / x);
    if (y > this.maxGroupsPerDim) throw new Error(`webgpu: ${groups} workgroups exceed the device's dispatch limits`);
    return [x, y, 1];
  }

  copyBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.throwIfFailed();
    if (size === 0) return;
    const encoder = this.ensureEncoder();
    this.endPass();
    encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
    this.used.add(src);
    this.used.add(dst);
    this.batchNames.add('copy');
  }

  /** Whether recorded, unsubmitted commands use `buffer` (a host write must flush first). */
  usedInBatch(buffer: GPUBuffer): boolean {
    return this.used.has(buffer);
  }

  /** Destroys `buffer` once nothing recorded can use it any more. */
  destroyLater(buffer: GPUBuffer): void {
    if (this.encoder === null) buffer.destroy();
    else this.destroyQueue.push(buffer);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    if (this.encoder === null) return;
    this.endPass();
    const device = this.device;
    if (this.arenaUsed > 0) device.queue.writeBuffer(this.arena, 0, this.arenaHost.buffer, 0, this.arenaUsed);
    device.queue.submit([this.encoder.finish()]);
    this.submits++;
    const names = [...this.batchNames];
    this.track(
      device.popErrorScope().then((err) => {
        if (err) this.defer(new Error(`webgpu: a batch of kernels failed validation (${names.join(', ')}): ${err.message}`), 1);
      }),
    );
    this.encoder = null;
    this.arenaUsed = 0;
    this.used.clear();
    this.batchNames = new Set();
    for (const b of this.destroyQueue) b.destroy();
    this.destroyQueue = [];
  }

  // ---- reading back

  /**
   * Copies `byteLength` bytes of `src` (with the status words) to the host. Resolves after the
   * GPU finished everything recorded before; rejects with any error found on the way.
   */
  async readback(src: GPUBuffer, byteOffset: number, byteLength: number): Promise<ArrayBuffer> {
    this.throwIfFailed();
    const staging = this.device.createBuffer({
      label: 'nabla read-back',
      size: byteLength + STATUS_WORDS * 4,
      usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST,
    });
    this.copyBuffer(src, byteOffset, staging, 0, byteLength);
    this.copyBuffer(this.status, 0, staging, byteLength, STATUS_WORDS * 4);
    this.flush();
    let data: ArrayBuffer;
    try {
      await staging.mapAsync(MAP_MODE_READ);
      data = staging.getMappedRange().slice(0);
      staging.unmap();
    } catch (e) {
      await this.settle();
      if (this.lost) throw this.lost;
      throw new Error(`webgpu: reading back failed: ${(e as Error).message || 'the buffer could not be mapped'}`, { cause: e });
    } finally {
      staging.destroy();
    }
    await this.settle();
    this.checkStatus(new Uint32Array(data, byteLength, STATUS_WORDS));
    return data;
  }

  /** Resolves when the GPU has finished all recorded work; rejects with errors found. */
  async synchronize(): Promise<void> {
    await this.readback(this.status, 0, 0);
  }

  private checkStatus(words: Uint32Array): void {
    const code = words[0]!;
    if (code === 0) return;
    this.device.queue.writeBuffer(this.status, 0, new Uint32Array(STATUS_WORDS));
    const op = STATUS_CODES[code] ?? `kernel ${code}`;
    const value = words[1]! | 0;
    const size = words[2]!;
    const dim = words[3]!;
    throw new Error(`${op}: index ${value} is out of range for dimension ${dim} with size ${size} (valid range [0, ${size - 1}])`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.flush();
    this.disposed = true;
    this.arena.destroy();
    this.status.destroy();
    this.kernels.clear();
  }
}

function numbered(source: string): string {
  return source
    .split('\n')
    .map((l, i) => `${String(i + 1).padStart(4)}| ${l}`)
    .join('\n');
}
