import { describe, expect, it } from 'vitest';
import { promoteTypes, resultType, toFloating, type DType } from './dtype.js';

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
    // A 0-d float tensor over an int tensor gives its own type (PyTorch 1.13: int32[2] + float64 0-d → float64).
    expect(resultType([{ dtype: 'int32', category: 0 }, { dtype: 'float64', category: 1 }])).toBe('float64');
    expect(resultType([{ dtype: 'float64', category: 1 }, { dtype: 'int32', category: 2 }])).toBe('float64');
  });
  it('promotes float16 and bfloat16 as PyTorch (each checked against torch 1.13)', () => {
    const dim = (dtype: DType) => ({ dtype, category: 0 as const });
    const zero = (dtype: DType) => ({ dtype, category: 1 as const });
    const num = (dtype: DType) => ({ dtype, category: 2 as const });
    expect(promoteTypes('float16', 'bfloat16')).toBe('float32');
    expect(promoteTypes('bfloat16', 'float16')).toBe('float32');
    expect(promoteTypes('float16', 'float32')).toBe('float32');
    expect(promoteTypes('bfloat16', 'float64')).toBe('float64');
    expect(promoteTypes('int32', 'float16')).toBe('float16');
    expect(promoteTypes('bool', 'bfloat16')).toBe('bfloat16');
    expect(promoteTypes('float16', 'float16')).toBe('float16');
    expect(resultType([dim('float16'), dim('bfloat16')])).toBe('float32');
    expect(resultType([zero('float16'), zero('bfloat16')])).toBe('float32');
    expect(resultType([dim('float16'), zero('float32')])).toBe('float16');
    expect(resultType([dim('bfloat16'), zero('float64')])).toBe('bfloat16');
    expect(resultType([dim('float16'), num('float32')])).toBe('float16');
    expect(resultType([dim('float16'), num('int32')])).toBe('float16');
    expect(resultType([dim('int32'), zero('float16')])).toBe('float16');
    expect(resultType([dim('bool'), zero('bfloat16')])).toBe('bfloat16');
    expect(resultType([dim('int32'), num('float32')])).toBe('float32');
    expect(resultType([zero('int32'), num('float32')])).toBe('float32');
    expect(resultType([zero('float16'), num('float32')])).toBe('float16');
    expect(resultType([dim('bool'), num('int32')])).toBe('int32');
  });
  it('computes math ops of ints in the default float', () => {
    expect(toFloating('int32')).toBe('float32');
    expect(toFloating('float64')).toBe('float64');
  });
});
