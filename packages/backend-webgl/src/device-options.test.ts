/** Options of the wrong kind are refused before a GL context is made (no display needed). */
import { describe, expect, it } from 'vitest';
import { GlDevice } from './device.js';

describe('webgl device options', () => {
  it('refuses a maxPooledBytes that is not a number of bytes >= 0, and a mode that is not a string, naming what it got', async () => {
    const create = (o: Record<string, unknown>) => GlDevice.create(o as never);
    // A string compared as a number before, and -1 quietly turned pooling off.
    await expect(create({ maxPooledBytes: '100' })).rejects.toThrow('webgl backend: maxPooledBytes must be a number of bytes >= 0, got string 100');
    await expect(create({ maxPooledBytes: -1 })).rejects.toThrow('webgl backend: maxPooledBytes must be a number of bytes >= 0, got number -1');
    await expect(create({ maxPooledBytes: Number.NaN })).rejects.toThrow('got number NaN');
    await expect(create({ mode: 2 })).rejects.toThrow('webgl backend: mode must be a gpu.js mode name (a string), got number 2');
  });
});
