/**
 * Property tests of readable slicing: random shapes and random indices (integers, slices with
 * omitted and negative parts and steps, '...', null, integer arrays, bool masks) checked against a plain
 * reference below that maps each output element to the input element it reads, following
 * PyTorch's rules (a 1-D mask is the array of its true positions; integers are not advanced indices; the broadcast dims of adjacent index
 * arrays stay in place, of separated ones go first). Checked: values, that basic indexing is a
 * view both ways, the gradient, and indexPut_ with accumulate.
 */
import { createRuntime, type IndexItem, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

const RUNS = { numRuns: 150 };

type RefItem =
  | { kind: 'int'; i: number }
  | { kind: 'slice'; start: number | null; stop: number | null; step: number | null; asString: boolean }
  | { kind: 'array'; values: number[] }
  /** A 1-D bool mask over one dim (the only advanced entry, so its count needs no broadcasting). */
  | { kind: 'mask'; keep: boolean[] }
  | { kind: 'new' }
  | { kind: 'ellipsis' };

interface Case {
  shape: number[];
  items: RefItem[];
}

// ---- the reference

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function unravel(k: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let i = shape.length - 1; i >= 0; i--) {
    idx[i] = k % shape[i]!;
    k = Math.floor(k / shape[i]!);
  }
  return idx;
}

function ravel(idx: readonly number[], shape: readonly number[]): number {
  let k = 0;
  for (let i = 0; i < shape.length; i++) k = k * shape[i]! + idx[i]!;
  return k;
}

/** Python's range(*slice.indices(size)) for a positive step. */
function slicePositions(size: number, start: number | null, stop: number | null, step: number | null): number[] {
  const st = step ?? 1;
  const clamp = (v: number | null, dflt: number): number => (v === null ? dflt : Math.min(Math.max(v < 0 ? v + size : v, 0), size));
  const s = clamp(start, 0);
  const e = clamp(stop, size);
  const out: number[] = [];
  for (let i = s; i < e; i += st) out.push(i);
  return out;
}

/** For each output element (row-major), the flat input position it reads; and the output shape. */
function reference(c: Case): { shape: number[]; source: number[] } {
  const consumed = c.items.filter((it) => it.kind === 'int' || it.kind === 'slice' || it.kind === 'array' || it.kind === 'mask').length;
  const items: RefItem[] = [];
  for (const raw of c.items) {
    const it: RefItem = raw.kind === 'mask' ? { kind: 'array', values: raw.keep.flatMap((k, i) => (k ? [i] : [])) } : raw;
    if (it.kind === 'ellipsis') for (let k = 0; k < c.shape.length - consumed; k++) items.push({ kind: 'slice', start: null, stop: null, step: null, asString: true });
    else items.push(it);
  }
  while (items.filter((it) => it.kind !== 'new').length < c.shape.length) items.push({ kind: 'slice', start: null, stop: null, step: null, asString: true });
  // Output dims in order: ('basic', positions of input dim d) | ('new') | one 'adv' slot.
  type Dim = { kind: 'basic'; d: number; pos: number[] } | { kind: 'new' } | { kind: 'adv' };
  const dims: Dim[] = [];
  const ints = new Map<number, number>();
  const arrays = new Map<number, number[]>();
  let d = 0;
  const advOrder: string[] = []; // the sequence after dropping ints, to judge adjacency
  for (const it of items) {
    if (it.kind === 'new') {
      dims.push({ kind: 'new' });
      advOrder.push('o');
    } else if (it.kind === 'int') {
      ints.set(d, it.i < 0 ? it.i + c.shape[d]! : it.i);
      d++;
    } else if (it.kind === 'slice') {
      dims.push({ kind: 'basic', d, pos: slicePositions(c.shape[d]!, it.start, it.stop, it.step) });
      advOrder.push('o');
      d++;
    } else if (it.kind === 'array') {
      arrays.set(d, it.values.map((v) => (v < 0 ? v + c.shape[d]! : v)));
      advOrder.push('a');
      d++;
    }
  }
  const L = arrays.size > 0 ? [...arrays.values()][0]!.length : 0;
  const firstA = advOrder.indexOf('a');
  const lastA = advOrder.lastIndexOf('a');
  const adjacent = arrays.size > 0 && advOrder.slice(firstA, lastA + 1).every((k) => k === 'a');
  let outDims: Dim[] = dims;
  if (arrays.size > 0) {
    // Where the slot goes among the non-advanced output dims.
    const before = adjacent ? advOrder.slice(0, firstA).length : 0;
    outDims = [...dims.slice(0, before), { kind: 'adv' }, ...dims.slice(before)];
  }
  const shape = outDims.map((od) => (od.kind === 'basic' ? od.pos.length : od.kind === 'new' ? 1 : L));
  const source: number[] = [];
  for (let k = 0; k < numel(shape); k++) {
    const o = unravel(k, shape);
    const inIdx = new Array<number>(c.shape.length).fill(-1);
    ints.forEach((v, dd) => (inIdx[dd] = v));
    outDims.forEach((od, j) => {
      if (od.kind === 'basic') inIdx[od.d] = od.pos[o[j]!]!;
      else if (od.kind === 'adv') arrays.forEach((vals, dd) => (inIdx[dd] = vals[o[j]!]!));
    });
    source.push(ravel(inIdx, c.shape));
  }
  return { shape, source };
}

// ---- random cases

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    shape: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 4 }),
    arrLen: fc.integer({ min: 1, max: 3 }),
    seed: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 40, maxLength: 40 }),
    ellipsis: fc.boolean(),
    nulls: fc.integer({ min: 0, max: 2 }),
  })
  .map(({ shape, arrLen, seed, ellipsis, nulls }) => {
    let s = 0;
    const r = (n: number): number => seed[s++ % seed.length]! % n;
    let items: RefItem[] = [];
    let arrays = 0;
    for (let d = 0; d < shape.length; d++) {
      const size = shape[d]!;
      const kind = r(5);
      if (kind === 0) items.push({ kind: 'int', i: r(2 * size) - size });
      else if (kind === 1 && arrays === 0 && r(3) === 0) {
        arrays = 3;
        items.push({ kind: 'mask', keep: Array.from({ length: size }, () => r(2) === 0) });
      } else if (kind === 1 && arrays < 3) {
        arrays++;
        items.push({ kind: 'array', values: Array.from({ length: arrLen }, () => r(2 * size) - size) });
      } else {
        const pick = (): number | null => (r(3) === 0 ? null : r(2 * size + 5) - size - 2);
        items.push({ kind: 'slice', start: pick(), stop: pick(), step: r(3) === 0 ? null : 1 + r(3), asString: r(2) === 0 });
      }
    }
    // '...' stands for full slices over a run of dims; without it, trailing dims may be left out.
    const a = r(shape.length + 1);
    const b = a + r(shape.length - a + 1);
    if (ellipsis) items = [...items.slice(0, a), { kind: 'ellipsis' }, ...items.slice(b)];
    else items = items.slice(0, b);
    for (let k = 0; k < nulls; k++) items.splice(r(items.length + 1), 0, { kind: 'new' });
    return { shape, items };
  });

function toSpec(c: Case): IndexItem[] {
  return c.items.map((it): IndexItem => {
    switch (it.kind) {
      case 'int':
        return it.i;
      case 'new':
        return null;
      case 'ellipsis':
        return '...';
      case 'array':
        return rt.tensor(it.values, { dtype: 'int32' });
      case 'mask':
        return rt.tensor(it.keep, { dtype: 'bool' });
      case 'slice': {
        if (!it.asString) return { start: it.start, stop: it.stop, step: it.step };
        const p = (v: number | null): string => (v === null ? '' : String(v));
        return it.step === null ? `${p(it.start)}:${p(it.stop)}` : `${p(it.start)}:${p(it.stop)}:${it.step}`;
      }
    }
  });
}

const describeCase = (c: Case): string => `shape ${JSON.stringify(c.shape)} index ${JSON.stringify(c.items)}`;
const values = (n: number, offset: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i * 1.5 + offset);
const basicOnly = (c: Case): boolean => c.items.every((it) => it.kind !== 'array' && it.kind !== 'mask');

describe('readable slicing against a plain reference', () => {
  it('values and shape', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const ref = reference(c);
        const x = rt.tensor(values(numel(c.shape), 0), { shape: c.shape, dtype: 'float64' });
        const y = x.index(toSpec(c));
        expect(y.shape, describeCase(c)).toEqual(ref.shape);
        expect(Array.from(y.dataSync()), describeCase(c)).toEqual(ref.source.map((k) => k * 1.5));
      }),
      RUNS,
    );
  });

  it('basic indexing is a view: writes through it reach the base and writes to the base reach it', () => {
    fc.assert(
      fc.property(caseArb.filter(basicOnly), (c) => {
        const ref = reference(c);
        const x = rt.zeros(c.shape, { dtype: 'float64' });
        const y = x.index(toSpec(c));
        expect(y._ref, describeCase(c)).toBe(x._ref);
        y.copy_(rt.tensor(values(numel(ref.shape), 1), { shape: ref.shape, dtype: 'float64' }));
        const want = new Array<number>(numel(c.shape)).fill(0);
        ref.source.forEach((k, i) => (want[k] = i * 1.5 + 1));
        expect(Array.from(x.dataSync()), describeCase(c)).toEqual(want);
        x.mul_(2);
        expect(Array.from(y.dataSync()), describeCase(c)).toEqual(ref.source.map((k) => want[k]! * 2));
      }),
      RUNS,
    );
  });

  it('the gradient adds each output gradient into the element it read', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const ref = reference(c);
        const x = rt.tensor(values(numel(c.shape), 0), { shape: c.shape, dtype: 'float64', requiresGrad: true });
        const w = rt.tensor(values(numel(ref.shape), 2), { shape: ref.shape, dtype: 'float64' });
        x.index(toSpec(c)).mul(w).sum().backward();
        const want = new Array<number>(numel(c.shape)).fill(0);
        ref.source.forEach((k, i) => (want[k]! += i * 1.5 + 2));
        expect(Array.from(x.grad!.dataSync()), describeCase(c)).toEqual(want);
      }),
      RUNS,
    );
  });

  it('indexPut_ with accumulate adds each value into the element it names', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const ref = reference(c);
        const x = rt.tensor(values(numel(c.shape), 0), { shape: c.shape, dtype: 'float64' });
        const v = rt.tensor(values(numel(ref.shape), 3), { shape: ref.shape, dtype: 'float64' });
        x.indexPut_(toSpec(c), v, { accumulate: true });
        const want = Array.from(values(numel(c.shape), 0));
        ref.source.forEach((k, i) => (want[k]! += i * 1.5 + 3));
        expect(Array.from(x.dataSync()), describeCase(c)).toEqual(want);
      }),
      RUNS,
    );
  });
});
