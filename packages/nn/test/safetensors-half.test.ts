/**
 * float16/bfloat16 through nn.save / nn.load: the file holds F16/BF16 bit patterns (every one of
 * the 65,536 exactly, except that a NaN is written as one canonical NaN: save reads values, not
 * bits), they load back as 16-bit tensors, and a half-precision
 * model's state dict loads into a float32 model (loadStateDict casts, as PyTorch's copy_ does).
 */
import { encodeHalf, type HalfDType, type Runtime } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

function header(bytes: Uint8Array): { n: number; json: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) };
}

describe('nn.save / nn.load with 16-bit floats', () => {
  for (const [dtype, code] of [['float16', 'F16'], ['bfloat16', 'BF16']] as [HalfDType, string][]) {
    it(`${dtype}: every bit pattern is written as ${code}, little-endian, and loads back as ${dtype}`, async () => {
      const bits = new Uint16Array(65536).map((_, i) => i);
      const t = rt.tensor(bits, { dtype, shape: [256, 256] });
      const bytes = await nn.save({ w: t });
      const { n, json } = header(bytes);
      expect(json.w).toEqual({ dtype: code, shape: [256, 256], data_offsets: [0, 2 * 65536] });
      const view = new DataView(bytes.buffer, bytes.byteOffset + 8 + n);
      const inFile = new Uint16Array(65536).map((_, i) => view.getUint16(2 * i, true));
      const isNaNBits = (b: number): boolean => (dtype === 'float16' ? (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0 : (b & 0x7f80) === 0x7f80 && (b & 0x7f) !== 0);
      let wrong = 0;
      for (let i = 0; i < 65536; i++) if (isNaNBits(i) ? !isNaNBits(inFile[i]!) : inFile[i] !== i) wrong++;
      expect(wrong).toBe(0);

      const back = nn.loadBytes(bytes, { runtime: rt }).w!;
      expect(back.dtype).toBe(dtype);
      expect(back.shape).toEqual([256, 256]);
      const again = encodeHalf(dtype, (await back.data()) as Float32Array);
      let mismatched = 0;
      for (let i = 0; i < 65536; i++) if (!isNaNBits(i) && again[i] !== i) mismatched++;
      expect(mismatched).toBe(0);
      // Saving what was loaded writes the same bytes.
      expect(await nn.save({ w: back })).toEqual(bytes);
      t.dispose();
      back.dispose();
    });
  }

  it("a model cast with .half() saves F16 and loads into a float32 model; .bfloat16(), .float() and .double() cast too", async () => {
    rt.manualSeed(3);
    const half = new nn.Linear(4, 3, { runtime: rt }).half();
    expect(half.weight.dtype).toBe('float16');
    const bytes = await nn.save(half.stateDict());
    expect(header(bytes).json.weight!.dtype).toBe('F16');
    const full = new nn.Linear(4, 3, { runtime: rt });
    full.loadStateDict(nn.loadBytes(bytes, { runtime: rt }));
    expect(full.weight.dtype).toBe('float32');
    expect(Array.from((await full.weight.data()) as Float32Array)).toEqual(Array.from((await half.weight.data()) as Float32Array));
    expect(full.bfloat16().bias!.dtype).toBe('bfloat16');
    expect(full.float().bias!.dtype).toBe('float32');
    expect(full.double().weight.dtype).toBe('float64');
  });
});
