import { describe, expect, it } from 'vitest';
import { CpuBackend } from './backend.js';
import { BufferPool, CpuStorage, sizeClass, TINY_NUMEL, TINY_PARKED } from './storage.js';

describe('sizeClass', () => {
  it('rounds up to one of four classes per power of two', () => {
    expect(sizeClass(1)).toBe(16);
    expect(sizeClass(16)).toBe(16);
    expect(sizeClass(17)).toBe(20);
    expect(sizeClass(20)).toBe(20);
    expect(sizeClass(21)).toBe(24);
    expect(sizeClass(32)).toBe(32);
    expect(sizeClass(1000)).toBe(1024);
    expect(sizeClass(1025)).toBe(1280);
  });

  it('never wastes more than 25% above 16 elements', () => {
    for (let n = 17; n < 5000; n += 7) {
      const c = sizeClass(n);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c).toBeLessThanOrEqual(Math.ceil(n * 1.25));
    }
  });
});

describe('BufferPool', () => {
  it('hands a released array back to the next allocation of the same class', () => {
    const pool = new BufferPool();
    const a = pool.allocate('float32', 1000);
    a.data.fill(3);
    pool.release(a);
    expect(pool.pooledBytes()).toBe(1024 * 4);
    const b = pool.allocate('float32', 1010);
    expect(b.data).toBe(a.data);
    expect(b.numel).toBe(1010);
    expect(b.data.length).toBeGreaterThanOrEqual(1010);
    expect(b.byteLength).toBe(1010 * 4);
    // Recycled contents are unspecified; here they are the stale values.
    expect(b.data[0]).toBe(3);
    expect(pool.pooledBytes()).toBe(0);
  });

  it('keeps dtypes and size classes apart', () => {
    const pool = new BufferPool();
    const a = pool.allocate('float32', 100);
    pool.release(a);
    expect(pool.allocate('int32', 100).data).not.toBe(a.data);
    expect(pool.allocate('float32', 1000).data).not.toBe(a.data);
    expect(pool.allocate('float32', 100).data).toBe(a.data);
  });

  it('bounds the parked bytes', () => {
    const pool = new BufferPool({ maxPooledBytes: 10_000 });
    const live = Array.from({ length: 10 }, () => pool.allocate('float64', 256));
    for (const s of live) pool.release(s);
    expect(pool.pooledBytes()).toBeLessThanOrEqual(10_000);
    expect(pool.pooledBytes()).toBe(4 * 256 * 8);
  });

  it('can be disabled', () => {
    const pool = new BufferPool({ maxPooledBytes: 0 });
    const a = pool.allocate('bool', 50);
    pool.release(a);
    expect(pool.pooledBytes()).toBe(0);
    expect(pool.allocate('bool', 50).data).not.toBe(a.data);
  });

  it('rejects a negative cap', () => {
    expect(() => new BufferPool({ maxPooledBytes: -1 })).toThrow(/maxPooledBytes/);
  });

  it('serves empty storages without pooling them', () => {
    const pool = new BufferPool();
    const a = pool.allocate('float32', 0);
    expect(a.numel).toBe(0);
    expect(a.data.length).toBe(0);
    pool.release(a);
    expect(pool.pooledBytes()).toBe(0);
  });
});

describe('BufferPool: tiny storages', () => {
  it('hands a released tiny storage back whole (object and array) to the next of its dtype and length', () => {
    const pool = new BufferPool();
    const a = pool.allocate('float32', 1);
    a.data[0] = 7;
    a.released = true; // what CpuBackend.release does before it gives the storage to the pool
    pool.release(a);
    expect(pool.pooledBytes()).toBe(4);
    const b = pool.allocate('float32', 1);
    expect(b).toBe(a);
    expect(b.released).toBe(false);
    expect(b.numel).toBe(1);
    expect(b.byteLength).toBe(4);
    expect(pool.pooledBytes()).toBe(0);
    // Nothing parked: a fresh one, never the storage still in use.
    const c = pool.allocate('float32', 1);
    expect(c).not.toBe(b);
    expect(c.data.buffer === b.data.buffer && c.data.byteOffset === b.data.byteOffset).toBe(false);
  });

  it('keeps dtypes and lengths apart', () => {
    const pool = new BufferPool();
    const parked = [pool.allocate('float32', 1), pool.allocate('float32', 2), pool.allocate('float64', 1), pool.allocate('int32', TINY_NUMEL)];
    for (const s of parked) pool.release(s);
    expect(pool.pooledBytes()).toBe(4 + 8 + 8 + 4 * TINY_NUMEL);
    expect(pool.allocate('bool', 1)).not.toBe(parked[0]);
    expect(pool.allocate('float32', 3)).not.toBe(parked[1]);
    expect(pool.allocate('float64', 1)).toBe(parked[2]);
    expect(pool.allocate('int32', TINY_NUMEL)).toBe(parked[3]);
    expect(pool.allocate('float32', 2)).toBe(parked[1]);
    expect(pool.allocate('float32', 1)).toBe(parked[0]);
    expect(pool.pooledBytes()).toBe(0);
  });

  it('parks a bounded number, respects the byte cap and maxPooledBytes: 0, and clear() drops them', () => {
    const pool = new BufferPool();
    const many = Array.from({ length: TINY_PARKED + 10 }, () => pool.allocate('float32', 1));
    for (const s of many) pool.release(s);
    expect(pool.pooledBytes()).toBe(TINY_PARKED * 4);
    pool.clear();
    expect(pool.pooledBytes()).toBe(0);
    expect(many).not.toContain(pool.allocate('float32', 1));

    const off = new BufferPool({ maxPooledBytes: 0 });
    const a = off.allocate('float32', 1);
    off.release(a);
    expect(off.pooledBytes()).toBe(0);
    expect(off.allocate('float32', 1)).not.toBe(a);

    const capped = new BufferPool({ maxPooledBytes: 8 });
    const three = [capped.allocate('float32', 1), capped.allocate('float32', 1), capped.allocate('float32', 1)];
    for (const s of three) capped.release(s);
    expect(capped.pooledBytes()).toBe(8);
  });

  it('through the backend: a released tiny storage is reused only after release, and release still refuses a second release', () => {
    const be = new CpuBackend();
    const a = be.allocate('float32', 1);
    const live = be.allocate('float32', 1);
    be.release(a);
    expect(() => be.release(a)).toThrow(/released twice/);
    const b = be.allocate('float32', 1);
    expect(b).toBe(a);
    expect(b).not.toBe(live);
    be.write(b, new Float32Array([5]));
    be.write(live, new Float32Array([6]));
    expect(Array.from(be.readSync({ storage: b, dtype: 'float32', shape: [], strides: [], offset: 0 }))).toEqual([5]);
    expect(Array.from(be.readSync({ storage: live, dtype: 'float32', shape: [], strides: [], offset: 0 }))).toEqual([6]);
  });
});

describe('CpuBackend storage', () => {
  it('reuses memory across a simulated training loop', () => {
    const be = new CpuBackend();
    const first = [be.allocate('float32', 4096), be.allocate('float32', 128), be.allocate('int32', 64)];
    const buffers = new Set(first.map((s) => s.data.buffer));
    for (const s of first) be.release(s);
    for (let step = 0; step < 5; step++) {
      const again = [be.allocate('float32', 4096), be.allocate('float32', 128), be.allocate('int32', 64)];
      for (const s of again) expect(buffers.has(s.data.buffer)).toBe(true);
      for (const s of again) be.release(s);
    }
  });

  it('throws on double release, foreign storages and bad sizes', () => {
    const be = new CpuBackend();
    const s = be.allocate('float64', 10);
    be.release(s);
    expect(() => be.release(s)).toThrow(/released twice/);
    expect(() => be.release({ dtype: 'float32', numel: 1, byteLength: 4 })).toThrow(/not a cpu storage/);
    expect(() => be.allocate('float32', -1)).toThrow(/cannot allocate/);
    expect(() => be.allocate('float32', 1.5)).toThrow(/cannot allocate/);
    expect(() => be.allocate('int64' as never, 3)).toThrow(/unsupported dtype 'int64'/);
  });

  it('allocates the typed array of each dtype', () => {
    const be = new CpuBackend();
    expect(be.allocate('float32', 3).data).toBeInstanceOf(Float32Array);
    expect(be.allocate('float64', 3).data).toBeInstanceOf(Float64Array);
    expect(be.allocate('int32', 3).data).toBeInstanceOf(Int32Array);
    expect(be.allocate('bool', 3).data).toBeInstanceOf(Uint8Array);
    const s = be.allocate('bool', 3);
    expect(s).toBeInstanceOf(CpuStorage);
    expect(s.byteLength).toBe(3);
  });
});
