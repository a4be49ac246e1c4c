import { describe, expect, it } from 'vitest';
import { resultType, toFloating } from './dtype.js';

describe("PyTorch's type promotion", () => {
  it('promotes tensors with dims by width', () => {
    expect(resultType([{ dtype: 'int32', category: 0 }, { dtype: 'float32', category: 0 }])).toBe('float32');
    expect(resultType([{ dtype: 'float32', category: 0 }, { dtype: 'float64', category: 0 }])).toBe('float64');
    expect(resultType([{ dtype: 'bool', category: 0 }, { dtype: 'int32', category: 0 }])).toBe('int32');
  });
  it('lets a 0-d tensor or a JS number raise only the kind, never the width', () => {
    expect(resultType([{ dtype: 'float32', category: 0 }, { dtype: 'float64', category: 1 }])).toBe('float32');
    expect(resultType([{ dtype: 'float32', category: 0 }, { dtype: 'float32', category: 2 }])).toBe('float32');
    expect(resultType([{ dtype: 'int32', category: 0 }, { dtype: 'float32', category: 2 }])).toBe('float32');
    expect(resultType([{ dtype: 'int32', category: 0 }, { dtype: 'float64', category: 1 }])).toBe('float32');
    expect(resultType([{ dtype: 'float64', category: 1 }, { dtype: 'int32', category: 2 }])).toBe('float64');
  });
  it('computes math ops of ints in the default float', () => {
    expect(toFloating('int32')).toBe('float32');
    expect(toFloating('float64')).toBe('float64');
  });
});
