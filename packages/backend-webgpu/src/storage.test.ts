import { describe, expect, it } from 'vitest';
import { BufferPool } from './storage.js';

describe('webgpu BufferPool options', () => {
  // The check runs before the device is touched, so no adapter is needed.
  const device = {} as GPUDevice;
  const pool = (maxPooledBytes: unknown) => () => new BufferPool(device, () => {}, { maxPooledBytes: maxPooledBytes as number });

  it('refuses a maxPooledBytes that is not a number of bytes >= 0, naming what it got', () => {
    expect(pool(-1)).toThrow('webgpu backend: maxPooledBytes must be a number of bytes >= 0, got number -1');
    expect(pool('100')).toThrow('webgpu backend: maxPooledBytes must be a number of bytes >= 0, got string 100');
    expect(pool(0)()).toBeInstanceOf(BufferPool);
    expect(pool(Infinity)()).toBeInstanceOf(BufferPool);
  });
});
