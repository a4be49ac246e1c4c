import { describe, expect, it } from 'vitest';
import type { Storage, View } from './types.js';
import { checkBmmShapes, checkReduceAxes, checkViewBounds, collapseDims, sizeClass } from './kit.js';

const storage = (numel: number): Storage => ({ dtype: 'float32', numel, byteLength: numel * 4 });
const view = (shape: number[], strides: number[], offset = 0, numel = 100): View => ({ storage: storage(numel), dtype: 'float32', shape, strides, offset });

describe('backend kit', () => {
  it('collapseDims merges what every operand walks uniformly and keeps the rest', () => {
    expect(collapseDims([2, 3, 4], [[12, 4, 1], [12, 4, 1]])).toEqual({ shape: [24], strides: [[1], [1]] });
    expect(collapseDims([2, 3], [[3, 1], [1, 2]])).toEqual({ shape: [2, 3], strides: [[3, 1], [1, 2]] });
    expect(collapseDims([4, 1, 5], [[0, 7, 0], [5, 9, 1]])).toEqual({ shape: [20], strides: [[0], [1]] });
    expect(collapseDims([4, 5], [[0, 1], [5, 1]])).toEqual({ shape: [4, 5], strides: [[0, 1], [5, 1]] });
    expect(collapseDims([], [[]])).toEqual({ shape: [1], strides: [[0]] });
  });

  it('sizeClass has four classes per power of two above the minimum', () => {
    expect([1, 16, 17, 20, 21, 1000, 1025].map((n) => sizeClass(n, 16))).toEqual([16, 16, 20, 20, 24, 1024, 1280]);
    for (let n = 65; n < 5000; n += 37) {
      const c = sizeClass(n, 64);
      expect(c).toBeGreaterThanOrEqual(n);
      expect(c).toBeLessThanOrEqual(Math.ceil(n * 1.25));
    }
  });

  it('checks name the kernel and the offending shapes', () => {
    expect(checkReduceAxes('sum', view([2, 3], [3, 1]), view([2, 1], [1, 1]), [1])).toEqual([false, true]);
    expect(() => checkReduceAxes('sum', view([2, 3], [3, 1]), view([2], [1]), [1])).toThrow('sum: out has shape [2], expected [2, 1]');
    expect(() => checkReduceAxes('max', view([2, 3], [3, 1]), view([2, 3], [3, 1]), [1, 0])).toThrow('axes must be sorted');
    expect(() => checkBmmShapes(view([1, 2, 2], [4, 2, 1]), view([1, 2, 3], [6, 3, 1]), view([1, 2, 2], [4, 2, 1]))).toThrow(
      'bmm: expected a [B, M, K], b [B, K, N], out [B, M, N]; got a [1, 2, 3], b [1, 2, 2], out [1, 2, 2]',
    );
    expect(() => checkViewBounds('add', 'input 0', view([10, 10], [10, 1], 1))).toThrow('reaches past its storage of 100 elements');
    expect(() => checkViewBounds('add', 'input 0', view([10], [1], 0))).not.toThrow();
  });
});
