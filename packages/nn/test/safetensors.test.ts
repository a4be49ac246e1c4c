/**
 * nn.save / nn.load in the safetensors format: a file PyTorch wrote (fixtures/pytorch-mlp.safetensors,
 * from fixtures/make_parity_fixtures.py) loads into an nn model whose outputs match PyTorch's; a
 * file Nabla writes is byte-for-byte fixtures/nabla-saved.safetensors, which the generator script
 * reads back in Python (and, where /usr/bin/python3 has torch, this test does too); corrupt files
 * and unsupported dtypes are NablaErrors that say what is wrong.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NablaError, type Runtime, type Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, hashed, maxAbsDiff, values } from './helpers.js';
import { parity } from './parity-fixtures.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

const fixturePath = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** The state dict make_parity_fixtures.py's check_nabla_file expects, made the same way. */
function savedStateDict(): Record<string, Tensor> {
  return {
    'fc.weight': hashed(rt, [3, 2], 80, { dtype: 'float32' }),
    'fc.bias': hashed(rt, [3], 81, { dtype: 'float32' }),
    'bn.runningMean': hashed(rt, [3], 82),
    'bn.numBatchesTracked': rt.tensor(7, { dtype: 'int32' }),
    mask: rt.tensor([true, false, true]),
  };
}

function header(bytes: Uint8Array): Record<string, unknown> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
}

/** Safetensors bytes from a header object and a data section. */
function build(h: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(h));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('a PyTorch file into an nn model', () => {
  it("loads Linear-ReLU-Linear weights PyTorch saved and gives PyTorch's outputs", async () => {
    const sd = await nn.load(fixturePath('pytorch-mlp.safetensors'), { runtime: rt });
    expect(Object.keys(sd).sort()).toEqual(parity.safetensors.keys);
    const model = new nn.Sequential(new nn.Linear(4, 8, { runtime: rt }), new nn.ReLU(), new nn.Linear(8, 3, { runtime: rt }));
    const { missingKeys, unexpectedKeys } = model.loadStateDict(
      Object.fromEntries(Object.entries(sd).filter(([k]) => !k.startsWith('extra.'))),
    );
    expect(missingKeys).toEqual([]);
    expect(unexpectedKeys).toEqual([]);
    const x = rt.tensor(Float32Array.from(parity.safetensors.input), { shape: [5, 4] });
    expect(maxAbsDiff(values(model.call(x)), parity.safetensors.output)).toBeLessThan(1e-6);
  });

  it('reads F64, I32 and BOOL tensors with their values', async () => {
    const sd = await nn.load(new Uint8Array(readFileSync(fixturePath('pytorch-mlp.safetensors'))), { runtime: rt });
    for (const [name, want] of Object.entries(parity.safetensors.extra)) {
      const t = sd[name]!;
      expect(t.shape, name).toEqual(want.shape);
      expect(values(t), name).toEqual(want.values.map(Number));
    }
    expect(sd['extra.f64']!.dtype).toBe('float64');
    expect(sd['extra.i32']!.dtype).toBe('int32');
    expect(sd['extra.bool']!.dtype).toBe('bool');
  });
});

describe('a file Nabla writes', () => {
  it('is the committed fixture byte for byte (which the fixture script reads back in Python)', async () => {
    const bytes = await nn.save(savedStateDict(), { metadata: { producer: 'nabla' } });
    if (process.env.NABLA_WRITE_FIXTURES === '1') writeFileSync(fixturePath('nabla-saved.safetensors'), bytes);
    expect(Buffer.from(bytes).equals(readFileSync(fixturePath('nabla-saved.safetensors')))).toBe(true);
    const h = header(bytes);
    expect(Object.keys(h)).toEqual(['bn.numBatchesTracked', 'bn.runningMean', 'fc.bias', 'fc.weight', 'mask', '__metadata__']);
    expect(h['fc.weight']).toEqual({ dtype: 'F32', shape: [3, 2], data_offsets: [40, 64] });
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
  });

  it('round-trips through load, and through a file', async () => {
    const sd = savedStateDict();
    const dir = mkdtempSync(join(tmpdir(), 'nabla-st-'));
    const path = join(dir, 'm.safetensors');
    await nn.save(sd, path);
    const back = await nn.load(path, { runtime: rt });
    for (const [k, t] of Object.entries(sd)) {
      expect(back[k]!.dtype, k).toBe(t.dtype);
      expect(back[k]!.shape, k).toEqual(t.shape);
      expect(values(back[k]!), k).toEqual(values(t));
    }
  });

  // CI has no python3-torch today: there the fixture script's check stands in (see its docstring).
  const python = '/usr/bin/python3';
  const hasTorch = ((): boolean => {
    if (!existsSync(python)) return false;
    try {
      execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasTorch)(hasTorch ? 'loads in Python with torch' : `loads in Python with torch (skipped: no ${python} with torch here)`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-st-'));
    const path = join(dir, 'm.safetensors');
    await nn.save({ w: rt.tensor([[1.5, -2], [0.25, 8]]), n: rt.tensor([3, -4], { dtype: 'int32' }) }, path);
    const script = [
      'import json, struct, sys, torch',
      'raw = open(sys.argv[1], "rb").read()',
      'n = struct.unpack("<Q", raw[:8])[0]',
      'h = json.loads(raw[8:8 + n])',
      'out = {}',
      'for k, v in h.items():',
      '    a, b = v["data_offsets"]',
      '    dt = {"F32": torch.float32, "I32": torch.int32}[v["dtype"]]',
      '    out[k] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=dt).reshape(v["shape"]).tolist()',
      'print(json.dumps(out))',
    ].join('\n');
    const got = JSON.parse(execFileSync(python, ['-c', script, path], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(got).toEqual({ n: [3, -4], w: [[1.5, -2], [0.25, 8]] });
  });
});

describe('bad files', () => {
  const f32 = (vals: number[]): Uint8Array => new Uint8Array(Float32Array.from(vals).buffer);
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['too short', () => new Uint8Array(5), /not a valid safetensors file: 5 bytes, fewer than the 8-byte header length/],
    ['header longer than the file', () => { const b = new Uint8Array(16); new DataView(b.buffer).setBigUint64(0, 1000n, true); return b; }, /header claims 1000 bytes but only 8 follow/],
    ['header not JSON', () => { const b = new Uint8Array(12); new DataView(b.buffer).setBigUint64(0, 4n, true); b.set([0x7b, 0x7b, 0x7d, 0x20], 8); return b; }, /the header is not JSON/],
    ['unsupported dtype', () => build({ a: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'a' has dtype C64, which Nabla does not read/],
    ['size mismatch', () => build({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /tensor 'a' \(F32, shape \[3\]\) needs 12 bytes but data_offsets span 8/],
    ['overlapping offsets', () => build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, f32([1, 2, 3])), /the data of 'b' \(bytes 4\.\.12\) overlaps another tensor's/],
    ['a hole in the data', () => build({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32([1, 2])), /bytes 0\.\.4 of the data belong to no tensor/],
    ['offsets past the end', () => build({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32([1])), /tensor 'a' ends at byte 16 of the data, which has 4/],
    ['I64 beyond int32', () => { const d = new Uint8Array(8); new DataView(d.buffer).setBigInt64(0, 1n << 40n, true); return build({ a: { dtype: 'I64', shape: [], data_offsets: [0, 8] } }, d); }, /tensor 'a' \(I64\) holds 1099511627776, beyond int32/],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => {
      let err: unknown;
      try {
        nn.loadBytes(bytes(), { runtime: rt });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NablaError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toMatch(/load/);
    });
  }

  it('reads I64 counters (PyTorch num_batches_tracked) that fit as int32', () => {
    const d = new Uint8Array(8);
    new DataView(d.buffer).setBigInt64(0, 12n, true);
    const sd = nn.loadBytes(build({ num_batches_tracked: { dtype: 'I64', shape: [], data_offsets: [0, 8] } }, d), { runtime: rt });
    expect(sd.num_batches_tracked!.dtype).toBe('int32');
    expect(sd.num_batches_tracked!.item()).toBe(12);
  });
});
