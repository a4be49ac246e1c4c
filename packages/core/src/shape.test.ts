import { describe, expect, it } from 'vitest';
import { NablaError } from './errors.js';
import { broadcastShapes, contiguousStrides, inferShape, isContiguous, normalizeAxes, normalizeDim, viewStrides } from './shape.js';

describe('broadcasting', () => {
  it('aligns trailing dims and stretches ones', () => {
    expect(broadcastShapes([2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(broadcastShapes([], [5])).toEqual([5]);
  });
  it("fails with PyTorch's message", () => {
    expect(() => broadcastShapes([2, 3], [4], 'add')).toThrow(NablaError);
    expect(() => broadcastShapes([2, 3], [4], 'add')).toThrow(
      'add: The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1',
    );
  });
});

describe('dims', () => {
  it('wraps negative dims and rejects out-of-range ones', () => {
    expect(normalizeDim(-1, 3)).toBe(2);
    expect(() => normalizeDim(2, 2, 'sum')).toThrow('Dimension out of range (expected to be in range of [-2, 1], but got 2)');
  });
  it('treats a 0-d tensor as having dim 0 and -1', () => {
    expect(normalizeDim(0, 0)).toBe(0);
    expect(normalizeDim(-1, 0)).toBe(0);
  });
  it('sorts and dedups reduction axes; no dims means all', () => {
    expect(normalizeAxes([-1, 0], 3)).toEqual([0, 2]);
    expect(normalizeAxes(undefined, 2)).toEqual([0, 1]);
    expect(() => normalizeAxes([1, -1], 2)).toThrow(/appears multiple times/);
  });
});

describe('strides and views', () => {
  it('computes row-major strides', () => expect(contiguousStrides([2, 3, 4])).toEqual([12, 4, 1]));
  it('recognises contiguous layouts, ignoring size-1 dims', () => {
    expect(isContiguous([2, 1, 3], [3, 99, 1])).toBe(true);
    expect(isContiguous([3, 2], [1, 3])).toBe(false);
  });
  it('views a contiguous tensor in any compatible shape', () => {
    expect(viewStrides([2, 3, 4], [12, 4, 1], [6, 4])).toEqual([4, 1]);
    expect(viewStrides([2, 3, 4], [12, 4, 1], [24])).toEqual([1]);
  });
  it('refuses to view a transposed tensor across its split dims', () => {
    expect(viewStrides([3, 2], [1, 3], [6])).toBeNull();
    // ...but splitting one dim of it is fine.
    expect(viewStrides([4, 2], [1, 4], [2, 2, 2])).toEqual([2, 1, 4]);
  });
  it('infers one -1 and reports impossible shapes as PyTorch does', () => {
    expect(inferShape([-1, 3], 12)).toEqual([4, 3]);
    expect(() => inferShape([4, 2], 6, 'reshape')).toThrow("shape '[4, 2]' is invalid for input of size 6");
  });
});
