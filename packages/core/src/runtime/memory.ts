/**
 * Memory accounting and release. A `StorageRef` is shared by a tensor, its views, and detached
 * aliases; it is released to its backend when the last holder lets go. Holders let go through
 * `dispose()` or, as a safety net, when the garbage collector finalizes a tensor nobody disposed.
 *
 * Every live tensor and storage is counted, with plain counters. What the garbage collector frees
 * is uncounted by a finalizer, which must not keep the memory alive: V8 runs finalizers only when
 * the event loop turns, never inside a synchronous training loop, and a registry holds what it
 * will pass them. So on GC-managed devices (the CPU's typed arrays) a finalizer holds only the
 * count (a `StorageAccount`, or the bytes of a small storage nothing else holds), never the storage:
 * a tensor the GC takes takes its typed array with it, and a naive loop that never disposes stays
 * flat. Device buffers (WebGPU) must be given back
 * explicitly, so there the finalizer holds the storage and releases it.
 */
import { injectable } from 'tsyringe';
import type { Backend, Storage } from '../backend/types.js';
import type { Runtime } from './runtime.js';

/**
 * Storages below this size on GC-managed devices share one finalizer per `SMALL_BATCH` tensors
 * (registering one costs ~0.3 µs, about a tenth of a scalar op on the CPU).
 */
export const SMALL_STORAGE_BYTES = 4096;
/** At most 32: a tensor keeps its slot in five bits (tensor.ts, `_slot`). */
export const SMALL_BATCH = 32;

/**
 * What `memory()` counts for one storage, kept apart from it (see the file comment). Its device is
 * whoever uncounts it: the storage's backend, the holder's or the batch's device (one field less
 * on an object a batch of small storages keeps until the whole batch was collected).
 */
export class StorageAccount {
  /**
   * Holders left; once the last let go it is set far below zero, which is what `released` reads
   * (one field instead of two: batches of small storages keep their accounts until collected).
   */
  refs = 1;
  constructor(readonly bytes: number) {}

  /** Whether the storage was uncounted (and given back, unless GC-managed). */
  get released(): boolean {
    return this.refs < RELEASED_BELOW;
  }

  /** Takes one holder off; true when that was the last and the storage is to be uncounted now. */
  drop(): boolean {
    if (--this.refs !== 0) return false;
    // Far enough below zero that no later retain/release pair brings it back to 0 (still a Smi).
    this.refs = RELEASED;
    return true;
  }
}

const RELEASED = -(2 ** 29);
const RELEASED_BELOW = -(2 ** 28);

/** What a released storage that never had an account reads as (see `StorageRef.owner`). */
const RELEASED_ACCOUNT: StorageAccount = Object.freeze(Object.assign(new StorageAccount(0), { refs: RELEASED }));
/** What an unshared storage reads as: one holder. Frozen: only `StorageRef` changes counts. */
const SOLE_ACCOUNT: StorageAccount = Object.freeze(new StorageAccount(0));

/** A storage's version once written in place, and its asynchronous state (see `StorageRef.io`). */
interface StorageIO {
  version: number;
  pending: Promise<void> | null;
  readers: number;
  lastRead: Promise<void> | null;
}

export class StorageRef {
  /**
   * `version`, `pending`, `readers` and `lastRead`, made on first write: only storages written in
   * place or touched by asynchronous work need them, and a scalar graph keeps one reference per
   * saved tensor (each field is 8 bytes the garbage collector copies per reference).
   */
  private io: StorageIO | null = null;
  /**
   * Who counts the storage's holders. A small storage of a GC-managed device starts without an
   * account: its one holder is the tensor it was made for (`owner` is that tensor, null until it is
   * tracked), whose batch slot holds the byte count as a plain number. Most scalars of a graph are
   * never shared, and a collected one then leaves nothing behind in its batch (an account is an
   * object each of them kept until the whole batch was collected). The first other holder (an
   * alias, a read in flight) makes the account, and the tensor's slot holds it from then on.
   * Other storages get their account at once.
   */
  private owner: StorageAccount | Trackable | null;
  constructor(
    readonly storage: Storage,
    readonly backend: Backend,
    readonly tracker: MemoryTracker,
    account: StorageAccount | null,
  ) {
    this.owner = account;
  }

  /** PyTorch's version counter: bumped by every in-place write, shared by all aliases. */
  get version(): number {
    return this.io === null ? 0 : this.io.version;
  }
  set version(v: number) {
    if (v !== 0 || this.io !== null) this.ioState().version = v;
  }

  /**
   * Set while the contents are still arriving from an asynchronous device (`to('cpu')` of a
   * WebGPU tensor): reads await it, kernels refuse to start until it has settled.
   */
  get pending(): Promise<void> | null {
    return this.io === null ? null : this.io.pending;
  }
  set pending(p: Promise<void> | null) {
    if (p !== null || this.io !== null) this.ioState().pending = p;
  }

  /** Queued kernels that still have to read this storage (see ops/deferred.ts). */
  get readers(): number {
    return this.io === null ? 0 : this.io.readers;
  }
  set readers(n: number) {
    if (n !== 0 || this.io !== null) this.ioState().readers = n;
  }

  /** Settles when they all have: a write into the storage waits for it. */
  get lastRead(): Promise<void> | null {
    return this.io === null ? null : this.io.lastRead;
  }
  set lastRead(p: Promise<void> | null) {
    if (p !== null || this.io !== null) this.ioState().lastRead = p;
  }

  private ioState(): StorageIO {
    return (this.io ??= { version: 0, pending: null, readers: 0, lastRead: null });
  }

  /** The holder count (read-only when the storage has no account of its own yet). */
  get account(): StorageAccount {
    const o = this.owner;
    return o instanceof StorageAccount ? o : SOLE_ACCOUNT;
  }

  /** A small storage of a GC-managed device: its tensors share batched finalizers. */
  get small(): boolean {
    const o = this.owner;
    // Only small storages of GC-managed devices go without an account (see `owner`).
    if (!(o instanceof StorageAccount)) return true;
    return o.bytes < SMALL_STORAGE_BYTES && this.backend.gcManaged === true;
  }

  get released(): boolean {
    const o = this.owner;
    return o instanceof StorageAccount && o.released;
  }

  retain(): void {
    const o = this.owner;
    (o instanceof StorageAccount ? o : this.share(o)).refs++;
  }

  release(): void {
    const o = this.owner;
    if (o instanceof StorageAccount) {
      if (o.drop()) this.tracker.free(this);
    } else {
      this.owner = RELEASED_ACCOUNT;
      this.tracker.free(this);
    }
  }

  /**
   * @internal The tensor now being tracked with this storage: its claim is the byte count while it
   * is the only holder (returned), else the account (see `owner`).
   */
  claimFor(tensor: Trackable): StorageAccount | number {
    const o = this.owner;
    if (o instanceof StorageAccount) return o;
    if (o === null) {
      this.owner = tensor;
      return this.storage.byteLength;
    }
    // A second tensor without a retain first: every alias retains before it is made.
    return this.share(o);
  }

  /** A second holder: the storage gets its account, and its first tensor's slot holds it. */
  private share(first: Trackable | null): StorageAccount {
    const a = new StorageAccount(this.storage.byteLength);
    this.owner = a;
    if (first !== null) {
      const h = first._gcKey!.h as SmallBatch;
      // The slot held the byte count; it holds the account until the tensor gives its claim back.
      if (h.claims[first._slot] !== null) h.claims[first._slot] = a;
    }
    return a;
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
   * Live (not disposed, not collected) tensors, views included. A tensor the garbage collector
   * took is uncounted when its finalizer runs, which is after the event loop turns; on the CPU,
   * tensors under `SMALL_STORAGE_BYTES` are uncounted in batches of `SMALL_BATCH`, when the
   * whole batch was collected.
   */
  numTensors: number;
  /** Bytes of live storages (a storage shared by views counts once). */
  numBytes: number;
  /** The most `numBytes` has been since the runtime started or `resetPeakMemory()`. */
  peakBytes: number;
  /** Bytes backends keep in pools for reuse (not counted in numBytes). */
  pooledBytes: number;
  byDevice: Record<string, DeviceMemory>;
}

/**
 * One tensor object's claim on a storage of its own finalizer (large storages, device memory).
 * The finalizer gets this (never the tensor itself), so it can uncount a tensor that was
 * collected without `dispose()`. Small GC-managed storages have no holder: their tensors claim a
 * slot of a `SmallBatch` instead (one object less per tensor, which is most of a scalar op's GC).
 */
export interface Holder {
  account: StorageAccount;
  /** The storage to give back when the tensor is collected; null on GC-managed devices (see the file comment). */
  ref: StorageRef | null;
  device: string;
  /** Still counted in `numTensors` (false once disposed). */
  counted: boolean;
  /** The storage reference was given back. */
  released: boolean;
}

/**
 * What a batch of small-storage tensors still counts: finalized once all of them were collected.
 * Each member owns one slot of `claims`, holding its storage's account (or, while the member is the
 * storage's only holder, its byte count) until the member gives its claim back (then null); it
 * holds counts, not storages or tensors, so a disposed member leaves
 * nothing behind even when the event loop never turns (finalizers run only then).
 */
export class SmallBatch {
  /** Members still counted in `numTensors`. */
  tensors = 0;
  /** Per member: its storage's account, or its byte count while it was the storage's only holder. */
  readonly claims: (StorageAccount | number | null)[] = new Array(SMALL_BATCH);
  /** Members so far: the next member's slot (the claims are made full size, not grown per push). */
  size = 0;
  constructor(readonly device: string) {}
}

/**
 * What a tensor keeps so that its finalizer runs only after it is gone: a key object registered in
 * its place (per tensor, or per batch of small storages). V8's young-generation collections treat
 * registered objects as alive and promote them, so registering the tensor itself would keep every
 * tensor and its typed array until a full collection; the key is promoted instead, an empty object.
 * The tracker also keeps the tensor's claim on it: a `Holder`, or a batch and slot.
 */
export interface Trackable {
  /** @internal the key, which also holds the tensor's claim (one field instead of two per tensor) */
  _gcKey: GcKey | null;
  /** @internal the slot it owns when its claim is a batch of small storages */
  _slot: number;
}

/**
 * The object registered in a tensor's place. It holds the claim (a `Holder`, or a `SmallBatch`
 * whose slot the tensor owns), never the other way round: a finalizer's held value must not reach
 * its target, or the target is never collected.
 */
export interface GcKey {
  readonly h: Holder | SmallBatch;
}

@injectable()
export class MemoryTracker {
  /** @internal The runtime that counts with this tracker (set once by it): what `Tensor.rt` reads. */
  _rt: Runtime | null = null;
  numTensors = 0;
  numBytes = 0;
  peakBytes = 0;
  private readonly byDevice = new Map<string, DeviceMemory>();
  private readonly finalizer = new FinalizationRegistry<Holder>((h) => this.collect(h));
  private readonly batchFinalizer = new FinalizationRegistry<SmallBatch>((b) => this.collectBatch(b));
  /** Per device, the batch small-storage tensors join now and the key its members reference. */
  private readonly openByDevice = new Map<string, { batch: SmallBatch; key: GcKey }>();
  /** The open batch asked for last: one device is the common case, and this runs per tensor. */
  private open: { batch: SmallBatch; key: GcKey } | null = null;

  /** The device asked for last and its record: one device is the common case, and this runs per tensor. */
  private lastDevice = '';
  private lastRecord: DeviceMemory | null = null;

  private dev(device: string): DeviceMemory {
    if (device === this.lastDevice && this.lastRecord !== null) return this.lastRecord;
    let d = this.byDevice.get(device);
    if (!d) this.byDevice.set(device, (d = { numTensors: 0, numBytes: 0, peakBytes: 0 }));
    this.lastDevice = device;
    this.lastRecord = d;
    return d;
  }

  allocate(backend: Backend, storage: Storage): StorageRef {
    const bytes = storage.byteLength;
    this.numBytes += bytes;
    if (this.numBytes > this.peakBytes) this.peakBytes = this.numBytes;
    const d = this.dev(backend.device);
    d.numBytes += bytes;
    if (d.numBytes > d.peakBytes) d.peakBytes = d.numBytes;
    // Small GC-managed storages get their account only once shared (see `StorageRef.owner`).
    const small = bytes < SMALL_STORAGE_BYTES && backend.gcManaged === true;
    return new StorageRef(storage, backend, this, small ? null : new StorageAccount(bytes));
  }

  /** The last holder of `ref` let go: uncount it and give the storage back to its backend. */
  free(ref: StorageRef): void {
    this.uncountBytes(ref.storage.byteLength, ref.backend.device);
    ref.backend.release(ref.storage);
  }

  private uncountBytes(bytes: number, device: string): void {
    this.numBytes -= bytes;
    this.dev(device).numBytes -= bytes;
  }

  /** A tensor object came to life holding `ref`: count it and give it its claim (`_gcKey.h`). */
  track(tensor: Trackable, ref: StorageRef): void {
    const device = ref.backend.device;
    this.numTensors++;
    this.dev(device).numTensors++;
    if (ref.small) {
      let o = this.open;
      if (o === null || o.batch.device !== device) o = this.openBatch(device);
      const b = o.batch;
      b.tensors++;
      const slot = b.size;
      tensor._slot = slot;
      tensor._gcKey = o.key;
      b.claims[slot] = ref.claimFor(tensor);
      if ((b.size = slot + 1) === SMALL_BATCH) {
        this.batchFinalizer.register(o.key, b);
        // The next batch opens now: the map must not keep the full one's key (it would never be
        // collected), and overwriting the entry costs less than a delete, which rehashes the map.
        this.openByDevice.set(device, (this.open = newOpen(device)));
      }
    } else {
      const holder: Holder = { account: ref.account, ref: ref.backend.gcManaged === true ? null : ref, device, counted: true, released: false };
      const key: GcKey = { h: holder };
      tensor._gcKey = key;
      this.finalizer.register(key, holder, holder);
    }
  }

  /** The batch small-storage tensors of `device` join now (the last one asked for is `open`). */
  private openBatch(device: string): { batch: SmallBatch; key: GcKey } {
    let o = this.openByDevice.get(device);
    if (o === undefined) this.openByDevice.set(device, (o = newOpen(device)));
    return (this.open = o);
  }

  /** The tensor was disposed: it no longer counts as live (called once per tensor). */
  uncount(tensor: Trackable): void {
    const h = tensor._gcKey!.h;
    if (h instanceof SmallBatch) {
      h.tensors--;
      this.numTensors--;
      this.dev(h.device).numTensors--;
    } else this.uncountHolder(h);
  }

  private uncountHolder(holder: Holder): void {
    if (!holder.counted) return;
    holder.counted = false;
    this.numTensors--;
    this.dev(holder.device).numTensors--;
  }

  /** Gives the tensor's claim on `ref` back now; its finalizer is no longer needed. */
  releaseHolder(tensor: Trackable, ref: StorageRef): void {
    const h = tensor._gcKey!.h;
    if (h instanceof SmallBatch) {
      if (h.claims[tensor._slot] === null) return;
      h.claims[tensor._slot] = null;
    } else {
      if (h.released) return;
      h.released = true;
      this.finalizer.unregister(h);
    }
    ref.release();
  }

  private collect(holder: Holder): void {
    this.uncountHolder(holder);
    if (holder.released) return;
    holder.released = true;
    if (holder.ref !== null) holder.ref.release();
    else this.drop(holder.account, holder.device);
  }

  private collectBatch(b: SmallBatch): void {
    this.numTensors -= b.tensors;
    this.dev(b.device).numTensors -= b.tensors;
    b.tensors = 0;
    const claims = b.claims;
    for (let i = 0; i < claims.length; i++) {
      const a = claims[i];
      // A byte count: the member was its storage's only holder, and the storage went with it.
      if (typeof a === 'number') this.uncountBytes(a, b.device);
      else if (a !== null && a !== undefined) this.drop(a, b.device);
    }
    claims.fill(null);
  }

  /** The GC took a holder of a GC-managed storage on `device`; the storage goes with the last of them. */
  private drop(a: StorageAccount, device: string): void {
    if (a.drop()) this.uncountBytes(a.bytes, device);
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

function newOpen(device: string): { batch: SmallBatch; key: GcKey } {
  const batch = new SmallBatch(device);
  return { batch, key: { h: batch } };
}
