import type { View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from './backend.js';
import { hasRelaxedMadd } from './wasm/gemm-kernel.js';
import { dense, permuted, storageWith, viewOf } from './test-utils/views.js';

describe('CpuBackend', () => {
  const be = new CpuBackend();

  it('describes itself', () => {
    expect(be.device).toBe('cpu');
    expect(be.readsSync).toBe(true);
    expect([...be.dtypes].sort()).toEqual(['bfloat16', 'bool', 'float16', 'float32', 'float64', 'int32']);
    const fma = hasRelaxedMadd() ? ' (FMA)' : '';
    expect(be.describe()).toBe(`cpu (WebAssembly SIMD${fma} + JavaScript, 1 thread, Node ${process.version})`);
    expect(be.info.fma).toBe(hasRelaxedMadd());
    expect(new CpuBackend({ fma: false }).describe()).toBe(`cpu (WebAssembly SIMD + JavaScript, 1 thread, Node ${process.version})`);
    expect(new CpuBackend({ fma: false }).info.fma).toBe(false);
    expect(new CpuBackend({ wasm: false }).describe()).toBe(`cpu (JavaScript, 1 thread, Node ${process.version})`);
  });

  it('rejects options of the wrong kind, naming the option, what it got and what it takes', () => {
    const make = (o: Record<string, unknown>) => () => new CpuBackend(o);
    // A string is truthy: without the check, { wasm: 'no' } left wasm on.
    expect(make({ wasm: 'no' })).toThrow("cpu backend: wasm must be true or false, got string no");
    expect(make({ heapStorage: 0 })).toThrow('cpu backend: heapStorage must be true or false, got number 0');
    expect(make({ fma: 1 })).toThrow('cpu backend: fma must be true or false, got number 1');
    expect(make({ spin: 'yes' })).toThrow('cpu backend: spin must be true or false, got string yes');
    expect(make({ threads: 1.5 })).toThrow("cpu backend: threads must be a positive integer or 'auto', got number 1.5");
    expect(make({ threads: 'all' })).toThrow("cpu backend: threads must be a positive integer or 'auto', got string all");
    expect(make({ heapStorageBytes: -1 })).toThrow('cpu backend: heapStorageBytes must be a number of bytes >= 0, got number -1');
    expect(make({ heapStorageBytes: '1GB' })).toThrow('cpu backend: heapStorageBytes must be a number of bytes >= 0, got string 1GB');
    expect(make({ maxPooledBytes: '100' })).toThrow('cpu backend: maxPooledBytes must be a number of bytes >= 0, got string 100');
    expect(new CpuBackend({ wasm: false, heapStorage: true, spin: false, threads: 'auto', heapStorageBytes: 0 }).device).toBe('cpu');
  });

  it('writes at an offset and reads a contiguous view back as a fresh copy', () => {
    const s = be.allocate('float32', 6);
    be.write(s, new Float32Array([1, 2, 3, 4, 5, 6]));
    be.write(s, new Float32Array([9, 8]), 4);
    const v = viewOf(s, [2, 2], [2, 1], 1);
    const r = be.readSync(v);
    expect(r).toBeInstanceOf(Float32Array);
    expect(Array.from(r)).toEqual([2, 3, 4, 9]);
    r[0] = 100;
    expect(s.data[1]).toBe(2);
  });

  it('reads strided, broadcast and rank-0 views in row-major order', () => {
    const t = permuted(be, 'int32', [2, 3], [1, 2, 3, 4, 5, 6], [1, 0]);
    expect(Array.from(be.readSync(t))).toEqual([1, 2, 3, 4, 5, 6]);
    const b = viewOf(storageWith(be, 'bool', [0, 1]), [3, 2], [0, 1]);
    const rb = be.readSync(b);
    expect(rb).toBeInstanceOf(Uint8Array);
    expect(Array.from(rb)).toEqual([0, 1, 0, 1, 0, 1]);
    const s = viewOf(storageWith(be, 'float64', [1, 2, 3]), [], [], 2);
    expect(Array.from(be.readSync(s))).toEqual([3]);
    const e = viewOf(storageWith(be, 'float64', [1]), [2, 0], [0, 1]);
    expect(be.readSync(e).length).toBe(0);
  });

  it('read resolves to the same values', async () => {
    const v = dense(be, 'float64', [3], [1.5, 2.5, 3.5]);
    const r = await be.read(v);
    expect(Array.from(r)).toEqual([1.5, 2.5, 3.5]);
    await expect(be.synchronize()).resolves.toBeUndefined();
  });

  it('accepts subclasses of the dtype\'s array (a Node Buffer for bool)', () => {
    const s = be.allocate('bool', 3);
    be.write(s, Buffer.from([1, 0, 1]));
    expect(Array.from(be.readSync(viewOf(s, [3])))).toEqual([1, 0, 1]);
    // Bytes other than 0/1 are normalised, so kernels can read bool as 0/1.
    be.write(s, new Uint8Array([255, 2]), 1);
    expect(Array.from(be.readSync(viewOf(s, [3])))).toEqual([1, 1, 1]);
  });

  it('rejects bad writes and reads', async () => {
    const s = be.allocate('float32', 3);
    expect(() => be.write(s, new Float64Array(3))).toThrow(/Float64Array into a float32 storage/);
    expect(() => be.write(s, new Float32Array(3), 1)).toThrow(/overflows a storage of 3/);
    const bad: View = { storage: s, dtype: 'float32', shape: [4], strides: [1], offset: 0 };
    expect(() => be.readSync(bad)).toThrow(/reaches past its storage/);
    await expect(be.read(bad)).rejects.toThrow(/reaches past its storage/);
    be.release(s);
    expect(() => be.write(s, new Float32Array(1))).toThrow(/released/);
    expect(() => be.readSync(viewOf(s, [1]))).toThrow(/already released/);
  });

  it('reports pooled bytes and drops them on dispose', () => {
    const b2 = new CpuBackend({ maxPooledBytes: 1 << 20 });
    expect(b2.pooledBytes()).toBe(0);
    const s = b2.allocate('float64', 1000);
    b2.release(s);
    expect(b2.pooledBytes()).toBe(1024 * 8);
    b2.dispose();
    expect(b2.pooledBytes()).toBe(0);
  });
});
