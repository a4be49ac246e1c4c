/**
 * Memory accounting and release. A `StorageRef` is shared by a tensor, its views, and detached
 * aliases; it is released to its backend when the last holder lets go. Holders let go through
 * `dispose()` or, as a safety net, when the garbage collector finalizes a tensor nobody disposed.
 */
import { injectable } from 'tsyringe';
import type { Backend, Storage } from '../backend/types.js';

/** Storages below this size on GC-managed devices are left to the garbage collector. */
export const SMALL_STORAGE_BYTES = 4096;

export class StorageRef {
  refs = 1;
  /** PyTorch's version counter: bumped by every in-place write, shared by all aliases. */
  version = 0;
  /**
   * Set while the contents are still arriving from an asynchronous device (`to('cpu')` of a
   * WebGPU tensor): reads await it, kernels refuse to start until it has settled.
   */
  pending: Promise<void> | null = null;
  /** Queued kernels that still have to read this storage (see ops/deferred.ts). */
  readers = 0;
  /** Settles when they all have: a write into the storage waits for it. */
  lastRead: Promise<void> | null = null;
  released = false;
  constructor(
    readonly storage: Storage,
    readonly backend: Backend,
    readonly tracker: MemoryTracker,
    /** Counted in memory() and guarded by a finalizer (false: small storage the GC owns). */
    readonly tracked: boolean,
  ) {}

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0 && !this.released) {
      this.released = true;
      this.tracker.free(this);
    }
  }
}

export interface DeviceMemory {
  numTensors: number;
  numBytes: number;
  /** The most this device's `numBytes` has been since the runtime started or `resetPeakMemory()`. */
  peakBytes: number;
}

export interface MemoryInfo {
  /**
   * Live (not disposed, not collected) tensors, views included — on GC-managed devices (the CPU)
   * only those whose storage is at least `SMALL_STORAGE_BYTES` (4 KiB); smaller ones are ordinary
   * JS memory left to the garbage collector.
   */
  numTensors: number;
  /** Bytes of live storages (a storage shared by views counts once), with the same exception. */
  numBytes: number;
  /** The most `numBytes` has been since the runtime started or `resetPeakMemory()`. */
  peakBytes: number;
  /** Bytes backends keep in pools for reuse (not counted in numBytes). */
  pooledBytes: number;
  byDevice: Record<string, DeviceMemory>;
}

/**
 * One tensor object's claim on a storage. The finalizer gets this (never the tensor itself), so
 * it can release the storage of a tensor that was collected without `dispose()`.
 */
export interface Holder {
  ref: StorageRef;
  device: string;
  /** Still counted in `numTensors` (false once disposed). */
  counted: boolean;
  /** The storage reference was given back. */
  released: boolean;
}

@injectable()
export class MemoryTracker {
  numTensors = 0;
  numBytes = 0;
  peakBytes = 0;
  private readonly byDevice = new Map<string, DeviceMemory>();
  private readonly finalizer = new FinalizationRegistry<Holder>((h) => this.collect(h));

  private dev(device: string): DeviceMemory {
    let d = this.byDevice.get(device);
    if (!d) this.byDevice.set(device, (d = { numTensors: 0, numBytes: 0, peakBytes: 0 }));
    return d;
  }

  allocate(backend: Backend, storage: Storage): StorageRef {
    const bytes = storage.byteLength;
    if (backend.gcManaged && bytes < SMALL_STORAGE_BYTES) return new StorageRef(storage, backend, this, false);
    this.numBytes += bytes;
    if (this.numBytes > this.peakBytes) this.peakBytes = this.numBytes;
    const d = this.dev(backend.device);
    d.numBytes += bytes;
    if (d.numBytes > d.peakBytes) d.peakBytes = d.numBytes;
    return new StorageRef(storage, backend, this, true);
  }

  free(ref: StorageRef): void {
    if (ref.tracked) {
      const bytes = ref.storage.byteLength;
      this.numBytes -= bytes;
      this.dev(ref.backend.device).numBytes -= bytes;
    }
    ref.backend.release(ref.storage);
  }

  /** A tensor object came to life holding `holder.ref` (a tracked storage). */
  track(tensor: object, holder: Holder): void {
    this.numTensors++;
    this.dev(holder.device).numTensors++;
    this.finalizer.register(tensor, holder, holder);
  }

  /** The tensor was disposed: it no longer counts as live. */
  uncount(holder: Holder): void {
    if (!holder.counted) return;
    holder.counted = false;
    this.numTensors--;
    this.dev(holder.device).numTensors--;
  }

  /** Gives the holder's storage reference back now; the finalizer is no longer needed. */
  releaseHolder(holder: Holder): void {
    if (holder.released) return;
    holder.released = true;
    this.finalizer.unregister(holder);
    holder.ref.release();
  }

  private collect(holder: Holder): void {
    this.uncount(holder);
    if (!holder.released) {
      holder.released = true;
      holder.ref.release();
    }
  }

  snapshot(backends: readonly Backend[]): MemoryInfo {
    const byDevice: Record<string, DeviceMemory> = {};
    for (const [k, v] of this.byDevice) byDevice[k] = { ...v };
    let pooled = 0;
    for (const b of backends) pooled += b.pooledBytes?.() ?? 0;
    return { numTensors: this.numTensors, numBytes: this.numBytes, peakBytes: this.peakBytes, pooledBytes: pooled, byDevice };
  }

  resetPeak(): void {
    this.peakBytes = this.numBytes;
    for (const d of this.byDevice.values()) d.peakBytes = d.numBytes;
  }
}
