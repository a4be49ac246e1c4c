/**
 * Large CPU storages inside the WebAssembly memory (`heap-storage.ts`, `wasm/heap.ts`): where they
 * go, that every wasm kernel working on them in place gives the bits of the staged path
 * (`heapStorage: false`) on 1 and 2 threads, that kernel scratch never touches a storage, that
 * growing the memory keeps old views, that release and the garbage collector both give blocks
 * back, that a loop stays flat, and that `memory()` accounts for the whole memory.
 */
import { createRuntime, type DType, type ElementwiseSpec, type Expr, type View } from '@nabla/core';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuBackend } from './backend.js';
import { cpuBackend } from './index.js';
import { HEAP_MIN_BYTES } from './heap-storage.js';
import { CpuStorage } from './storage.js';
import { inPlaceRows, THREAD_MIN_WORK } from './wasm/elementwise.js';
import { wasmPlan } from './wasm/elementwise-kernel.js';
import { bin, cst, inp, par, randoms, spec, un, values, viewOf, where } from './test-utils/views.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

const off = new CpuBackend({ heapStorage: false });
const on1 = new CpuBackend();
const on2 = new CpuBackend({ threads: 2 });
await on2.init();
afterAll(async () => {
  await on2.dispose();
});

const stats = (be: CpuBackend) => be.wasm!.heap.stats();

/** A storage of `size` elements (the rest of `values`' room is junk) holding `values` from `at`. */
function filled(be: CpuBackend, dtype: DType, values: ArrayLike<number>, size = values.length, at = 0): CpuStorage {
  const s = be.allocate(dtype, size);
  s.data.fill(dtype === 'bool' ? 1 : 7.25);
  for (let i = 0; i < values.length; i++) s.data[at + i] = values[i]!;
  return s;
}

function expectSameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, what).toBe(want.length);
  let bad = -1;
  for (let i = 0; i < want.length && bad < 0; i++) if (!Object.is(got[i], want[i])) bad = i;
  expect(bad, `${what}: first difference at ${bad} (${got[bad]} vs ${want[bad]})`).toBe(-1);
}

/** Runs `make` on each backend and checks that heap on (1 and 2 threads) gives the bits of heap off. */
function sameOnAll(what: string, make: (be: CpuBackend) => View[], backends: readonly CpuBackend[] = [on1, on2]): void {
  const want = make(off).map(values);
  for (const be of backends) {
    const name = be === on1 ? '1 thread' : '2 threads';
    const got = make(be);
    got.forEach((v, i) => expectSameBits(values(v), want[i]!, `${what}, ${name}, output ${i}`));
  }
}

describe('where storages go', () => {
  it('storages of 16 KiB and up go to the heap, as views of its shared memory; smaller ones, and heapStorage: false, stay typed arrays', () => {
    const big = on1.allocate('float32', HEAP_MIN_BYTES / 4);
    expect(big.ptr).toBeGreaterThan(0);
    expect(big.block?.heap).toBe(on1.wasm!.heap);
    expect(big.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(big.data.byteOffset).toBe(big.ptr);
    expect(big.data.length).toBe(HEAP_MIN_BYTES / 4);
    expect(big.ptr % 64).toBe(0);
    const f64 = on1.allocate('float64', HEAP_MIN_BYTES / 8);
    expect(f64.ptr).toBeGreaterThan(0);
    expect(f64.data).toBeInstanceOf(Float64Array);
    expect(on1.allocate('bool', HEAP_MIN_BYTES).data).toBeInstanceOf(Uint8Array);
    expect(on1.allocate('float32', HEAP_MIN_BYTES / 4 - 1).ptr).toBe(-1);
    expect(off.allocate('float32', 1 << 20).ptr).toBe(-1);
    expect(new CpuBackend({ wasm: false }).allocate('float32', 1 << 20).ptr).toBe(-1);
    expect(on1.heapStorage).toBe(true);
    expect(off.heapStorage).toBe(false);
    for (const s of [big, f64]) on1.release(s);
  });

  it('release gives the block back; a released storage, or a release twice, is a clear error', () => {
    const before = stats(on1).storages;
    const s = filled(on1, 'float32', randoms(5000, 1));
    expect(stats(on1).storages).toBe(before + 1);
    on1.release(s);
    expect(stats(on1).storages).toBe(before);
    expect(() => on1.release(s)).toThrow(/released twice/);
    const add = spec('add', bin('add', inp(0), inp(1)), ['float32', 'float32'], 'float32', 0, 'float32');
    const out = on1.allocate('float32', 5000);
    const y = filled(on1, 'float32', randoms(5000, 2));
    expect(() => on1.compileElementwise(add)(viewOf(out, [5000]), [viewOf(s, [5000]), viewOf(y, [5000])], [])).toThrow(/already released/);
    on1.release(out);
    on1.release(y);
  });

  it("another backend's heap storage is read (copied), not taken for one of this heap's", () => {
    const add = spec('add', bin('add', inp(0), inp(1)), ['float32', 'float32'], 'float32', 0, 'float32');
    const xs = randoms(6001, 3);
    const ys = randoms(6001, 4);
    const foreign = filled(on2, 'float32', xs);
    const mine = filled(on1, 'float32', ys);
    expect(foreign.ptr).toBeGreaterThan(0);
    const out = on1.allocate('float32', 6001);
    on1.compileElementwise(add)(viewOf(out, [6001]), [viewOf(foreign, [6001]), viewOf(mine, [6001])], []);
    expectSameBits(out.data, Float32Array.from(xs, (x, i) => Math.fround(Math.fround(x) + Math.fround(ys[i]!))), 'sum');
  });

  it('growing the memory keeps the views of storages made before it', () => {
    const be = new CpuBackend();
    const xs = randoms(5000, 5);
    const s = filled(be, 'float32', xs);
    const memory = be.wasm!.heap.memory;
    const size = memory.buffer.byteLength;
    const huge = be.allocate('float32', 16 << 20); // 64 MiB: the memory must grow
    expect(memory.buffer.byteLength).toBeGreaterThan(size);
    expect(s.data.buffer).not.toBe(memory.buffer); // an older, shorter buffer object...
    expectSameBits(s.data, Float32Array.from(xs), 'old view'); // ...still showing the memory
    huge.data[0] = 1;
    s.data[1] = 42;
    expect(new Float32Array(memory.buffer, s.ptr, 2)[1]).toBe(42);
    expect(be.wasm!.heap.ptrOf(s.data)).toBe(s.ptr);
    expect(be.wasm!.heap.ptrOf(new Float32Array(8))).toBe(-1);
  });

  it('kernel scratch never lands on a storage: canaries around staged GEMM, elementwise, softmax and reduction calls stay intact', () => {
    const be = new CpuBackend();
    const canaries = [3000, 9000, 70_000].map((n, i) => filled(be, 'float64', randoms(n, 10 + i)));
    const copies = canaries.map((c) => Float64Array.from(c.data));
    // Small operands (typed arrays) make every kernel stage them through the scratch, which grows.
    for (const n of [40, 200, 300]) {
      const a = be.allocate('float32', n * n);
      const b = be.allocate('float32', n * n);
      a.data.set(randoms(n * n, n));
      b.data.set(randoms(n * n, n + 1));
      const o = be.allocate('float32', n * n);
      be.kernels.bmm(viewOf(o, [1, n, n]), viewOf(a, [1, n, n]), viewOf(b, [1, n, n]));
      be.kernels.softmax(viewOf(a, [n, n]), viewOf(o, [n, n]), 1);
      be.kernels.sum(viewOf(be.allocate('float32', n), [n, 1]), viewOf(o, [n, n]), [1]);
      const silu = spec('silu', bin('mul', inp(0), un('sigmoid', inp(0))), ['float32'], 'float32', 0, 'float32');
      be.compileElementwise(silu)(viewOf(b, [n * n]), [viewOf(o, [n * n])], []);
      canaries.push(o);
    }
    copies.forEach((c, i) => expectSameBits(canaries[i]!.data, c, `canary ${i}`));
  });
});

const f32 = (name: string, e: Expr, n: number, params = 0): ElementwiseSpec => spec(name, e, new Array<DType>(n).fill('float32'), 'float32', params, 'float32');
const x = inp(0);
const sg = un('sigmoid', x);
const SPECS = {
  add: f32('add', bin('add', x, inp(1)), 2),
  silu: f32('silu', bin('mul', x, sg), 1),
  siluBack: f32('siluBack', bin('mul', inp(1), bin('mul', sg, bin('add', cst(1), bin('mul', x, bin('sub', cst(1), sg))))), 2),
  scale: f32('scale', bin('add', bin('mul', x, par(0)), par(1)), 1, 2),
  exp64: spec('exp', un('exp', x), ['float64'], 'float64', 0, 'float64'),
  div64: spec('div', bin('div', bin('add', x, cst(3)), bin('add', un('abs', inp(1)), cst(1.5))), ['float64', 'float64'], 'float64', 0, 'float64'),
  where: spec('where', where(inp(0), inp(1), un('neg', inp(1))), ['bool', 'float32'], 'float32', 0, 'float32'),
  copy: f32('clone', x, 1),
  fill: f32('fill', par(0), 0, 1),
};

describe('in place on heap storages: the bits of the staged path (heapStorage: false), 1 and 2 threads', () => {
  // Around the vector width, the chunk (4096), the heap threshold (4096 float32) and the thread split (2^15).
  const SIZES = [4096, 4097, 4098, 4099, 4101, 8191, 8193, 12_289, 32_768, 32_771, 40_003, 100_001];

  it('flat unary and binary expressions, parameters, bool masks, float64', () => {
    const inPlaceBefore = inPlaceRows.count;
    for (const n of SIZES) {
      const dt = (s: ElementwiseSpec) => s.inputDtypes;
      for (const [name, s, params] of [['add', SPECS.add, []], ['silu', SPECS.silu, []], ['siluBack', SPECS.siluBack, []], ['scale', SPECS.scale, [1.5, -0.25]], ['exp64', SPECS.exp64, []], ['div64', SPECS.div64, []], ['where', SPECS.where, []]] as const) {
        sameOnAll(`${name} of ${n}`, (be) => {
          const ins = dt(s).map((d, k) => viewOf(filled(be, d, d === 'bool' ? randoms(n, k + 1).map((v) => Number(v > 0)) : randoms(n, k + n, -8, 8)), [n]));
          const out = viewOf(be.allocate(s.outDtype, n), [n]);
          be.compileElementwise(s)(out, ins, [...params]);
          return [out];
        });
      }
    }
    // Every wasm call on the two heap backends ran in place (the reference, heapStorage: false,
    // never does); float64 exp has no SIMD form (exact Math.exp), so it runs in JavaScript.
    expect(inPlaceRows.count - inPlaceBefore).toBe(SIZES.length * 6 * 2);
  });

  it('cheap expressions on heap operands are split across threads from THREAD_MIN_WORK; staged ones, or shorter rows, stay on the caller', async () => {
    const cheap = THREAD_MIN_WORK / 4; // an add costs less than 4: counted as 4
    expect(wasmPlan(SPECS.add)!.cost).toBeLessThanOrEqual(4);
    const staged2 = new CpuBackend({ threads: 2, heapStorage: false });
    await staged2.init();
    try {
      for (const [n, be, threaded] of [[cheap, on2, true], [cheap + 3, on2, true], [cheap - 4, on2, false], [cheap, staged2, false]] as const) {
        const before = be.wasm!.pool!.tasks;
        const o = viewOf(be.allocate('float32', n), [n]);
        be.compileElementwise(SPECS.add)(o, [viewOf(filled(be, 'float32', randoms(n, 20)), [n]), viewOf(filled(be, 'float32', randoms(n, 21)), [n])], []);
        expect(be.wasm!.pool!.tasks - before, `add of ${n} on ${be === on2 ? 'heap' : 'staged'} operands`).toBe(threaded ? 1 : 0);
        const ref = viewOf(off.allocate('float32', n), [n]);
        off.compileElementwise(SPECS.add)(ref, [viewOf(filled(off, 'float32', randoms(n, 20)), [n]), viewOf(filled(off, 'float32', randoms(n, 21)), [n])], []);
        expectSameBits((o.storage as CpuStorage).data.subarray(0, n), (ref.storage as CpuStorage).data.subarray(0, n), `add of ${n}`);
      }
    } finally {
      await staged2.dispose();
    }
  });

  it('offset (unaligned) views, row and column broadcasts, a transposed input, the empty tensor', () => {
    for (const [R, C] of [[64, 65], [3, 4099], [130, 257], [2, 20_000]] as const) {
      const n = R * C;
      sameOnAll(`offset views ${R}x${C}`, (be) => {
        const a = viewOf(filled(be, 'float32', randoms(n, 1), n + 5, 3), [n], [1], 3);
        const b = viewOf(filled(be, 'float32', randoms(n, 2), n + 2, 1), [n], [1], 1);
        const out = viewOf(be.allocate('float32', n + 7), [n], [1], 5);
        be.compileElementwise(SPECS.siluBack)(out, [a, b], []);
        return [out];
      });
      sameOnAll(`row and column broadcasts ${R}x${C}`, (be) => {
        const a = viewOf(filled(be, 'float32', randoms(n, 3)), [R, C]);
        const row = viewOf(filled(be, 'float32', randoms(C, 4)), [R, C], [0, 1]);
        const col = viewOf(filled(be, 'float32', randoms(R, 5)), [R, C], [1, 0]);
        const o1 = viewOf(be.allocate('float32', n), [R, C]);
        const o2 = viewOf(be.allocate('float32', n), [R, C]);
        be.compileElementwise(SPECS.add)(o1, [a, row], []);
        be.compileElementwise(SPECS.siluBack)(o2, [col, a], []);
        return [o1, o2];
      });
      sameOnAll(`transposed input ${R}x${C}`, (be) => {
        const t = viewOf(filled(be, 'float32', randoms(n, 6)), [R, C], [1, R]);
        const o = viewOf(be.allocate('float32', n), [R, C]);
        be.compileElementwise(SPECS.silu)(o, [t], []);
        return [o];
      });
    }
    sameOnAll('empty', (be) => {
      const o = viewOf(be.allocate('float32', 0), [0, 5000]);
      be.compileElementwise(SPECS.silu)(o, [viewOf(be.allocate('float32', 0), [0, 5000])], []);
      return [o];
    });
  });

  it('in place (out is an input), and an output overlapping its input one element further on', () => {
    for (const n of [4099, 40_003]) {
      sameOnAll(`in place ${n}`, (be) => {
        const v = viewOf(filled(be, 'float32', randoms(n, 7)), [n]);
        be.compileElementwise(SPECS.add)(v, [v, viewOf(filled(be, 'float32', randoms(n, 8)), [n])], []);
        return [v];
      });
      // One thread: a threaded row reads its whole input before any output lands (as it did
      // before heap storages), so an overlapping write differs there; PyTorch refuses the op.
      sameOnAll(
        `overlapping ${n}`,
        (be) => {
          const s = filled(be, 'float32', randoms(n + 1, 9));
          be.compileElementwise(SPECS.silu)(viewOf(s, [n], [1], 1), [viewOf(s, [n], [1], 0)], []);
          return [viewOf(s, [n + 1])];
        },
        [on1],
      );
    }
  });

  it('copies and fills (memory.copy), within and across rows, float32 and int32', () => {
    for (const n of [4096, 4099, 70_001]) {
      sameOnAll(`copy and fill ${n}`, (be) => {
        const src = viewOf(filled(be, 'float32', randoms(n + 3, 10)), [n], [1], 3);
        const dst = viewOf(be.allocate('float32', n + 1), [n], [1], 1);
        be.compileElementwise(SPECS.copy)(dst, [src], []);
        const f = viewOf(filled(be, 'float32', randoms(n + 2, 11)), [n], [1], 1);
        be.compileElementwise(SPECS.fill)(f, [], [-2.5]);
        const i32 = spec('clone', inp(0), ['int32'], 'int32', 0, 'int32');
        const si = viewOf(filled(be, 'int32', randoms(n, 12).map((v) => Math.round(v * 1000))), [n]);
        const di = viewOf(be.allocate('int32', n), [n]);
        be.compileElementwise(i32)(di, [si], []);
        const rows = viewOf(be.allocate('float32', 2 * n), [2, n / 2 | 0], [n, 1], 0);
        be.compileElementwise(SPECS.fill)(rows, [], [3]);
        return [dst, f, di, rows];
      });
    }
  });

  it('softmax and logSoftmax rows, sum/max/min reductions, float32 and float64', () => {
    for (const [R, C] of [[8, 4096], [5, 4099], [300, 100], [2, 65_536]] as const) {
      for (const dtype of ['float32', 'float64'] as const) {
        sameOnAll(`softmax ${dtype} ${R}x${C}`, (be) => {
          const xv = viewOf(filled(be, dtype, randoms(R * C, 12, -20, 20)), [R, C]);
          const o1 = viewOf(be.allocate(dtype, R * C), [R, C]);
          const o2 = viewOf(be.allocate(dtype, R * C), [R, C]);
          be.kernels.softmax(o1, xv, 1);
          be.kernels.logSoftmax(o2, xv, 1);
          const inPlace = viewOf(filled(be, dtype, randoms(R * C, 13, -5, 5)), [R, C]);
          be.kernels.softmax(inPlace, inPlace, 1);
          return [o1, o2, inPlace];
        });
        sameOnAll(`reductions ${dtype} ${R}x${C}`, (be) => {
          const xv = viewOf(filled(be, dtype, randoms(R * C, 14, -3, 3)), [R, C]);
          const outs: View[] = [];
          for (const k of ['sum', 'max', 'min'] as const) {
            for (const axes of [[1], [0, 1]]) {
              const o = viewOf(be.allocate(dtype, axes.length === 2 ? 1 : R), axes.length === 2 ? [1, 1] : [R, 1]);
              be.kernels[k](o, xv, axes);
              outs.push(o);
            }
          }
          return outs;
        });
      }
    }
  });

  it('matmul and addmm: operands packed in place, C accumulated in place (whole tiles) or copied out', () => {
    for (const [M, K, N] of [[64, 784, 256], [256, 256, 64], [100, 300, 130], [1000, 64, 24], [4, 4096, 8]] as const) {
      for (const dtype of ['float32', 'float64'] as const) {
        sameOnAll(`bmm ${dtype} ${M}x${K}x${N}`, (be) => {
          const a = viewOf(filled(be, dtype, randoms(M * K, 15)), [1, M, K]);
          const b = viewOf(filled(be, dtype, randoms(K * N, 16)), [1, K, N]);
          const bt = viewOf(filled(be, dtype, randoms(K * N, 17)), [1, K, N], [K * N, 1, K]); // transposed
          const o1 = viewOf(be.allocate(dtype, M * N), [1, M, N]);
          const o2 = viewOf(be.allocate(dtype, M * N), [1, M, N]);
          be.kernels.bmm(o1, a, b);
          be.kernels.bmm(o2, a, bt);
          const bias = viewOf(filled(be, dtype, randoms(N, 18)), [M, N], [0, 1]);
          const o3 = viewOf(be.allocate(dtype, M * N), [M, N]);
          be.kernels.addmm(o3, bias, viewOf(a.storage as CpuStorage, [M, K]), viewOf(b.storage as CpuStorage, [K, N]), 1, 1);
          return [o1, o2, o3];
        });
      }
    }
  });
});

describe('memory', () => {
  it('a storage the collector took gives its block back (the finalizer on the storage)', async () => {
    const be = new CpuBackend();
    const heap = be.wasm!.heap;
    const base = heap.stats().storages;
    (() => {
      for (let i = 0; i < 50; i++) be.allocate('float32', 10_000).data[0] = i; // never released
    })();
    expect(heap.stats().storages).toBe(base + 50);
    for (let i = 0; i < 4 && heap.stats().storages > base; i++) {
      gc();
      await turn();
    }
    expect(heap.stats().storages).toBe(base);
    expect(heap.stats().usedBytes).toBe(heap.stats().scratchBytes);
  });

  it('through the runtime: tensors left to the collector and disposed ones both give their blocks back; a loop stays flat; memory() counts the whole memory', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
    try {
      const be = rt.backend('cpu') as CpuBackend;
      const heap = be.wasm!.heap;
      const w = rt.randn([256, 256], { requiresGrad: true });
      const xb = rt.randn([64, 256]);
      const step = (): void => {
        const h = xb.matmul(w).tanh();
        h.mul(h).sum().backward();
        w.grad!.dispose();
        w.grad = null;
      };
      // A tidy loop: after its first steps, neither the memory nor its blocks grow.
      const tops: number[] = [];
      for (let s = 0; s < 60; s++) {
        rt.tidy(step);
        tops.push(heap.stats().top);
      }
      // (The top may step between two values as freed blocks are merged, never past the first steps'.)
      expect(Math.max(...tops.slice(10)), `tops ${tops.join(' ')}`).toBeLessThanOrEqual(Math.max(...tops.slice(0, 10)));
      // memory(): live storages in numBytes, the rest of the memory in pooledBytes.
      const m = rt.memory();
      expect(m.pooledBytes).toBeGreaterThanOrEqual(heap.bytes() - heap.stats().storageBytes);
      expect(heap.stats().storageBytes).toBeLessThanOrEqual(m.byDevice.cpu!.numBytes);
      // A naive loop: no tidy, no dispose; once collected, the heap holds what it held before.
      const before = heap.stats().storages;
      for (let s = 0; s < 30; s++) step();
      expect(heap.stats().storages).toBeGreaterThan(before + 30);
      for (let i = 0; i < 6 && heap.stats().storages > before; i++) {
        gc();
        await turn();
      }
      expect(heap.stats().storages).toBe(before);
      // The naive loop's blocks (it made the heap grow: a synchronous loop lets no finalizer run)
      // are reused: tidy steps after it grow nothing.
      const piled = heap.stats().top;
      for (let s = 0; s < 20; s++) rt.tidy(step);
      expect(heap.stats().top).toBeLessThanOrEqual(piled);
      w.dispose();
      xb.dispose();
      expect(heap.stats().storages).toBe(before - 2);
    } finally {
      await rt.dispose();
    }
  });

  it('dispose drops the heap (pooledBytes 0); a storage from before stays readable and can still be released; new ones get a new heap', async () => {
    const be = new CpuBackend({ threads: 2 });
    await be.init();
    const xs = randoms(8000, 30);
    const s = filled(be, 'float32', xs);
    const old = s.block?.heap ?? null;
    expect(be.pooledBytes()).toBeGreaterThan(0);
    await be.dispose();
    expect(be.pooledBytes()).toBe(0);
    expectSameBits(be.readSync(viewOf(s, [8000])), Float32Array.from(xs), 'after dispose');
    be.release(s);
    const t = be.allocate('float32', 8000);
    expect(t.block?.heap).not.toBe(old);
    expect(t.ptr).toBeGreaterThan(0);
    be.release(t);
    await be.dispose();
  });

  it('storages stop at heapStorageBytes: past it they are ordinary typed arrays', () => {
    const be = new CpuBackend({ heapStorageBytes: 8 << 20 });
    const a = be.allocate('float32', 1 << 20); // 4 MiB: fits
    const b = be.allocate('float32', 1 << 20); // would pass 8 MiB with the first
    expect(a.ptr).toBeGreaterThan(0);
    expect(b.ptr).toBe(-1);
    be.release(a);
    expect(be.allocate('float32', 1 << 20).ptr).toBe(a.ptr); // the freed block is reused
  });
});
