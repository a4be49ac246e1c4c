/** How output views are mapped onto storage positions (no GL context needed). */
import type { View } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { mapGeometry, mappedSource } from './mapped.js';

const view = (shape: number[], strides: number[], offset = 0, numel = 64): View => ({
  storage: { dtype: 'float32', numel, byteLength: numel * 16, cls: numel } as unknown as View['storage'],
  dtype: 'float32',
  shape,
  strides,
  offset,
});

describe('output view mapping', () => {
  it('sorts dims by output stride and merges contiguous ones', () => {
    const out = view([4, 3], [1, 4]); // a transposed [3, 4]
    const g = mapGeometry('t', out, [[3, 1]]);
    expect(g.shape).toEqual([3, 4]);
    expect(g.outStrides).toEqual([4, 1]);
    expect(g.strides).toEqual([[1, 3]]);
    const c = mapGeometry('t', view([2, 3], [3, 1]), [[3, 1]]);
    expect(c.shape).toEqual([6]);
  });

  it('keeps size-1 dims out of the way and a rank-0 output maps to one element', () => {
    expect(mapGeometry('t', view([1, 5, 1], [5, 1, 1]), []).shape).toEqual([5]);
    const s = mapGeometry('t', view([], []), [[]]);
    expect(s.shape).toEqual([1]);
    expect(s.outStrides).toEqual([1]);
  });

  it('refuses an output whose strides interleave (the greedy decomposition would be wrong)', () => {
    expect(() => mapGeometry('add_', view([3, 3], [2, 3]), [])).toThrow(/add_.*interleave/);
  });

  it('emits one index per kernel dim and one address per operand', () => {
    const src = mappedSource(2, ['x0'], 1, ['z'], ['return x0[a0];']);
    expect(src).toContain('let i1 = Math.floor(r / os1);');
    expect(src).toContain('let a0 = ao0 + i0 * as0_0 + i1 * as0_1;');
    expect(src.startsWith('function (o, x0, z, oo, os0, os1, on0, on1, ao0, as0_0, as0_1) {')).toBe(true);
  });
});
