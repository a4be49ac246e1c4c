/** Options of the wrong kind are refused before an adapter is asked for (no GPU needed). */
import { describe, expect, it } from 'vitest';
import { WebGpuBackend } from './backend.js';

describe('webgpu backend options', () => {
  it('refuses each option of the wrong kind, naming it, what it got and what it takes', async () => {
    const create = (o: Record<string, unknown>) => WebGpuBackend.create(o as never);
    // 'nativ' used to run as 'auto' without a word.
    await expect(create({ float16: 'nativ' })).rejects.toThrow("webgpu backend: float16 must be one of 'auto', 'native', 'packed', got string nativ");
    await expect(create({ featureLevel: 'compat' })).rejects.toThrow("webgpu backend: featureLevel must be one of 'core', 'compatibility', got string compat");
    await expect(create({ powerPreference: 'fast' })).rejects.toThrow("powerPreference must be one of 'low-power', 'high-performance', got string fast");
    await expect(create({ forceFallbackAdapter: 'yes' })).rejects.toThrow('webgpu backend: forceFallbackAdapter must be true or false, got string yes');
    await expect(create({ dawnFlags: 'backend=vulkan' })).rejects.toThrow("webgpu backend: dawnFlags must be an array of strings such as ['backend=vulkan'], got string backend=vulkan");
    await expect(create({ dawnFlags: ['backend=vulkan', 3] })).rejects.toThrow('got object ["backend=vulkan",3]');
    await expect(create({ maxWorkgroupsPerDimension: 0 })).rejects.toThrow('webgpu backend: maxWorkgroupsPerDimension must be a positive integer, got number 0');
    // maxPooledBytes is checked by the BufferPool it configures (storage.test.ts).
  });
});
