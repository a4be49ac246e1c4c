/**
 * PyTorch 1.13's float16/bfloat16 fixtures (packages/core/fixtures/half/), decoded: the conversion
 * tables of make_half_conversions.py and the op cases of make_half_ops.py. Shared by the CPU tests
 * here and the WebGPU ones.
 */
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';

const DIR = new URL('../../../../packages/core/fixtures/half/', import.meta.url);

/** base64 → inflate → little-endian words → undo the running differences. */
function unpack<T extends Uint16Array | Uint32Array>(b64: string, Ctor: { new (n: number): T; BYTES_PER_ELEMENT: number }): T {
  const raw = inflateSync(Buffer.from(b64, 'base64'));
  const n = raw.length / Ctor.BYTES_PER_ELEMENT;
  const out = new Ctor(n);
  const mask = Ctor.BYTES_PER_ELEMENT === 2 ? 0xffff : 0xffffffff;
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const d = Ctor.BYTES_PER_ELEMENT === 2 ? raw.readUInt16LE(2 * i) : raw.readUInt32LE(4 * i);
    acc = i === 0 ? d : (acc + d) & mask;
    out[i] = acc >>> 0;
  }
  return out;
}

export interface HalfConversions {
  readonly torch: string;
  /** float32 bits of each 16-bit pattern's value (index = pattern). */
  readonly f16ToF32: Uint32Array;
  readonly bf16ToF32: Uint32Array;
  /** The float32 inputs (bits) of the narrowing tables, and PyTorch's 16-bit results. */
  readonly f32Inputs: Uint32Array;
  readonly f32ToF16: Uint16Array;
  readonly f32ToBf16: Uint16Array;
}

export function loadConversions(): HalfConversions {
  const j = JSON.parse(readFileSync(new URL('half-conversions.json', DIR), 'utf8')) as Record<string, string> & { lows: number[]; torch: string };
  const lows = j.lows;
  const f32Inputs = new Uint32Array(65536 * lows.length);
  for (let hi = 0, k = 0; hi < 65536; hi++) for (const lo of lows) f32Inputs[k++] = ((hi << 16) | lo) >>> 0;
  return {
    torch: j.torch,
    f16ToF32: unpack(j.f16ToF32!, Uint32Array),
    bf16ToF32: unpack(j.bf16ToF32!, Uint32Array),
    f32Inputs,
    f32ToF16: unpack(j.f32ToF16!, Uint16Array),
    f32ToBf16: unpack(j.f32ToBf16!, Uint16Array),
  };
}

/** Whether float32 bits `u` are a NaN. */
export function isNaNBits32(u: number): boolean {
  return (u & 0x7fffffff) > 0x7f800000;
}

/** Whether bfloat16 bits `h` are a NaN. */
export function isNaNBitsBf16(h: number): boolean {
  return (h & 0x7fff) > 0x7f80;
}

/** Up to `max` mismatches as readable lines. */
export function mismatches(
  n: number,
  expected: (i: number) => number,
  actual: (i: number) => number,
  label: (i: number) => string,
  same: (e: number, a: number) => boolean = (e, a) => e === a,
  max = 10,
): string[] {
  const bad: string[] = [];
  for (let i = 0; i < n && bad.length < max; i++) {
    const e = expected(i);
    const a = actual(i);
    if (!same(e, a)) bad.push(`${label(i)}: expected 0x${e.toString(16)}, got 0x${a.toString(16)}`);
  }
  return bad;
}
