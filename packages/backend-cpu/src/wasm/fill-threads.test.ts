/**
 * Large fills split across the worker pool (`fill.ts`): the same bytes as a typed array's own
 * `fill` (so as one thread), for every element size, lengths around the threshold and the chunk
 * edges, unaligned starts and special values, nothing stored outside the range, the pool really
 * used for large fills and not for small ones; and through the public API, `zeros`, `ones`,
 * `full`, `*Like`, `fill_` and a backward's gradient seed give the same bits with 1 and 2 threads
 * for every dtype (the 16-bit ones are filled tile by tile through float32, on the caller).
 */
import { createRuntime, type DType, type Runtime, type Tensor } from '@nabla/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CpuBackend } from '../backend.js';
import { cpuBackend } from '../plugin.js';
import { wasmTestBackends } from '../test-utils/backends.js';
import { FILL_CHUNK_BYTES, FILL_THREAD_MIN_BYTES, fillGateOf, heapFill } from './fill.js';
import { FillGate, fillSplitting, PROBE_EVERY } from './fill-gate.js';
import { poolOf } from './pool.js';

const { one, two } = await wasmTestBackends();
// Every large fill split, whatever this machine's load makes of the gate (tested on its own below).
beforeAll(() => {
  fillSplitting.adaptive = false;
});
afterAll(() => {
  fillSplitting.adaptive = true;
});

describe('the split-fill gate', () => {
  it('stays open while split fills are evenly shared, closes when they are not, probes, reopens', () => {
    const g = new FillGate();
    fillSplitting.adaptive = true;
    try {
      for (let i = 0; i < 20; i++) {
        expect(g.wants()).toBe(true);
        g.record(8 + (i % 5) - 2, 16, 2); // 6..10 of 16: within 25-75%
      }
      // Lopsided: the caller ran all or none of the chunks.
      for (let i = 0; i < 3; i++) g.record(i % 2 === 0 ? 16 : 0, 16, 2);
      expect(g.open).toBe(false);
      const asked = Array.from({ length: 2 * PROBE_EVERY }, () => g.wants());
      expect(asked.filter((w) => w).length).toBe(2);
      expect(asked[PROBE_EVERY - 1]).toBe(true);
      for (let i = 0; i < 3; i++) g.record(8, 16, 2);
      expect(g.open).toBe(true);
      expect(g.wants()).toBe(true);
      // Four threads: the caller's fair share is a quarter (12.5-37.5% is even).
      const g4 = new FillGate();
      for (let i = 0; i < 4; i++) g4.record(i % 2 === 0 ? 10 : 0, 16, 4);
      expect(g4.open).toBe(false);
      for (let i = 0; i < 4; i++) g4.record(4, 16, 4);
      expect(g4.open).toBe(true);
    } finally {
      fillSplitting.adaptive = false;
    }
  });

  it('with adaptive off, a closed gate still splits every fill', () => {
    const g = new FillGate();
    for (let i = 0; i < 6; i++) g.record(0, 16, 2);
    expect(g.open).toBe(false);
    for (let i = 0; i < 10; i++) expect(g.wants()).toBe(true);
  });

  it('a split fill on the pool is recorded in its gate', () => {
    const heap = two.wasm!.heap;
    const gate = fillGateOf(two.wasm!.pool!);
    const n = FILL_THREAD_MIN_BYTES / 4;
    const block = heap.allocStorage(Float32Array as never, n)!;
    for (let i = 0; i < 4; i++) gate.record(0, 16, 2);
    expect(gate.open).toBe(false);
    // Each split fill moves the score toward 1 (evenly shared) or 0 (not): it cannot stay put.
    for (let i = 0; i < 3; i++) {
      const before = gate.evenness;
      heapFill(heap, block.view as unknown as Float32Array, 0, n, i);
      expect(gate.evenness).not.toBe(before);
    }
    for (let i = 0; i < 6; i++) gate.record(8, 16, 2);
    expect(gate.open).toBe(true);
    heap.releaseStorage(block.block);
  });
});

type Ctor = Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor;
const CTORS: Ctor[] = [Float32Array, Float64Array, Int32Array, Uint16Array, Uint8Array];
const VALUES = [1, -0, NaN, -Infinity, 2 ** 31 + 5, 1e-40, 0x3c00];
const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

describe('heapFill on two threads', () => {
  const heap = two.wasm!.heap;
  const pool = two.wasm!.pool!;
  it('has a pool to split on', () => {
    expect(pool.threads).toBe(2);
  });
  for (const Ctor of CTORS) {
    const es = Ctor.BYTES_PER_ELEMENT;
    const minN = FILL_THREAD_MIN_BYTES / es;
    const chunkN = FILL_CHUNK_BYTES / es;
    // Around the threshold, whole chunks plus the 16-byte seed, and a last chunk of 1..5 elements.
    const lengths = [minN - 1, minN, minN + 1, minN + 16 / es, 17 * chunkN + 16 / es, 17 * chunkN + 16 / es + 1, 17 * chunkN + 3, 17 * chunkN - 5, 33 * chunkN + 7];
    it(`${Ctor.name}: lengths around ${FILL_THREAD_MIN_BYTES} bytes and ${FILL_CHUNK_BYTES}-byte chunks, starts 0-3, the rest untouched`, () => {
      const total = Math.max(...lengths) + 8;
      const block = heap.allocStorage(Ctor as never, total)!;
      const view = block.view as unknown as InstanceType<Ctor>;
      const want = new Ctor(total);
      let split = 0;
      for (const value of VALUES) {
        for (const n of lengths) {
          for (const from of [0, 1, 3]) {
            want.fill(7 as never);
            want.fill(value as never, from, from + n);
            view.fill(7 as never);
            const before = pool.tasks;
            heapFill(heap, view, from, n, value);
            const tasks = pool.tasks - before;
            if (tasks !== (n * es >= FILL_THREAD_MIN_BYTES ? 1 : 0)) expect.fail(`${Ctor.name} fill of ${n} from ${from}: ${tasks} pool tasks`);
            split += tasks;
            const at = firstDiff(bytesOf(view), bytesOf(want));
            if (at >= 0) expect.fail(`${Ctor.name} fill ${value}, ${n} from ${from}: byte ${at} differs`);
          }
        }
      }
      expect(split).toBeGreaterThan(0);
      heap.releaseStorage(block.block);
    });
  }

  it('one thread runs the same fills without a pool', () => {
    expect(one.wasm!.pool).toBeNull();
    const h = one.wasm!.heap;
    const n = FILL_THREAD_MIN_BYTES / 4 + 5;
    const block = h.allocStorage(Float32Array as never, n)!;
    const view = block.view as unknown as Float32Array;
    heapFill(h, view, 0, n, -1.5);
    expect(view.every((v) => v === -1.5)).toBe(true);
    h.releaseStorage(block.block);
  });
});

describe('a disposed pool', () => {
  it('is not used: a later fill runs on the caller', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend({ threads: 2 })] });
    const wasm = (rt.backend('cpu') as CpuBackend).wasm!;
    const { heap, pool } = wasm;
    expect(poolOf(heap.memory)).toBe(pool);
    const n = FILL_THREAD_MIN_BYTES / 4 + 3;
    const block = heap.allocStorage(Float32Array as never, n)!;
    const view = block.view as unknown as Float32Array;
    await rt.dispose();
    expect(poolOf(heap.memory)).toBeNull();
    heapFill(heap, view, 0, n, 2.5);
    expect(view.every((v) => v === 2.5)).toBe(true);
    expect(pool!.tasks).toBe(0);
  });
});

describe('fills through the runtime: 1 thread = 2 threads, bit for bit', () => {
  const runtimes: Runtime[] = [];
  afterAll(async () => {
    for (const rt of runtimes) await rt.dispose();
  });
  const start = async (threads: number): Promise<Runtime> => {
    const rt = await createRuntime({ plugins: [cpuBackend({ threads })] });
    runtimes.push(rt);
    return rt;
  };
  const DTYPES: DType[] = ['float32', 'float64', 'int32', 'bool', 'float16', 'bfloat16'];
  // Odd shapes below and above the split threshold (2^20 bytes) for every element size.
  const SHAPES = [[3, 5], [1001, 523], [263, 2049], [7, 11, 13], [1031, 1027]];
  const bits = (t: Tensor): Uint8Array => {
    const d = t.dataSync() as ArrayBufferView;
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  };
  /** Every fill the API offers, as bytes. */
  function fills(rt: Runtime, dtype: DType): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const shape of SHAPES) {
      const v = dtype === 'bool' ? true : dtype === 'int32' ? -7 : -2.75;
      const ts = [rt.zeros(shape, { dtype }), rt.ones(shape, { dtype }), rt.full(shape, v, { dtype })];
      ts.push(rt.zerosLike(ts[2]!), rt.onesLike(ts[0]!), rt.fullLike(ts[0]!, dtype === 'bool' ? 1 : 3));
      const f = rt.zeros(shape, { dtype });
      f.fill_(dtype === 'bool' ? 1 : 5);
      ts.push(f);
      for (const t of ts) {
        out.push(bits(t));
        t.dispose();
      }
    }
    return out;
  }

  it('every dtype and fill: the same bytes, and the pool split the large ones', async () => {
    const [rt1, rt2] = [await start(1), await start(2)];
    const pool = (rt2.backend('cpu') as CpuBackend).wasm!.pool!;
    expect(pool.threads).toBe(2);
    for (const dtype of DTYPES) {
      const before = pool.tasks;
      const a = fills(rt1, dtype);
      const b = fills(rt2, dtype);
      // 16-bit fills run as float32 tiles narrowed per tile (half-elementwise.ts): not split, still compared.
      if (dtype !== 'float16' && dtype !== 'bfloat16') expect(pool.tasks - before, `${dtype}: fills split across the pool`).toBeGreaterThan(0);
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) {
        const at = firstDiff(a[i]!, b[i]!);
        if (at >= 0) expect.fail(`${dtype} fill #${i}: byte ${at} differs between 1 and 2 threads`);
      }
    }
  });

  it("a backward's gradient seed (onesLike of a large output) gives the same gradient", async () => {
    const [rt1, rt2] = [await start(1), await start(2)];
    const grads: Uint8Array[] = [];
    for (const rt of [rt1, rt2]) {
      const x = rt.arange(0, 600 * 701, { dtype: 'float32' }).reshape([600, 701]).mul(1e-6).requiresGrad_();
      const y = x.exp();
      const seed = rt.onesLike(y);
      y.backward(seed);
      grads.push(bits(x.grad!));
      for (const t of [x, y, seed]) t.dispose();
    }
    expect(firstDiff(grads[0]!, grads[1]!)).toBe(-1);
  });
});
