/**
 * Issue 14's memory claim, on the CPU: an MLP's forward under `autocast` keeps about half the bytes
 * of float32 for backward (its saved activations are bfloat16), seen through `memory()`; the
 * step's peak (`peakBytes`) drops too, and the gradients stay float32 and close to float32's.
 * apps/bench's `amp` suite reports the same numbers per device. Counted as PyTorch counts them
 * (every tensor its saved-tensor pack hook receives), Nabla saves exactly PyTorch 1.13's tensors,
 * and the activations among them take exactly half the bytes; `memory()`'s live bytes come out
 * above half because float32's saved input and weights existed before the forward, while their
 * bfloat16 copies are made by it.
 */
import * as nabla from '@nabla/core';
import type { Runtime, Tensor } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, fixture, values } from './helpers.js';

type Saved = { shape: number[]; dtype: string; bytes: number };
const saved = fixture<{ blocks: number; width: number; batch: number; float32: Saved[]; autocast: Saved[] }>('amp-saved.json');

let rt: Runtime;
let hasBf16 = false;
beforeAll(async () => {
  rt = await cpuRuntime();
  hasBf16 = rt.backends.all().some((b) => b.device === 'cpu' && (b.dtypes as readonly string[]).includes('bfloat16'));
});

const BLOCKS = 12;

function mlp(r: Runtime): nn.Sequential[] {
  r.manualSeed(3);
  return Array.from({ length: BLOCKS }, () => new nn.Sequential(new nn.Linear(64, 64, { runtime: r }), new nn.ReLU()));
}

/**
 * The blocks one by one, each in its own tidy and its input disposed once used: what stays after
 * the forward is what the graph saved (each ReLU's output, which the next Linear saves too, and
 * the region's casts: the input's bfloat16 copy and each weight's), plus the loss.
 */
function forward(r: Runtime, blocks: nn.Sequential[], x: Tensor): Tensor {
  let h = x;
  for (const b of blocks) {
    const prev = h;
    h = r.tidy(() => b.call(prev));
    if (prev !== x) prev.dispose();
  }
  const last = h;
  const loss = r.tidy(() => last.float().mean());
  last.dispose();
  return loss;
}

/** Bytes live after the forward (graph alive) minus before, the step's peak, and the gradients. */
function step(r: Runtime, m: nn.Sequential[], x: Tensor, enabled: boolean): { kept: number; peak: number; grads: number[][] } {
  for (const p of m.flatMap((b) => [...b.parameters()])) p.grad = r.zerosLike(p);
  const bytes = (): number => r.memory().byDevice.cpu?.numBytes ?? 0;
  const before = bytes();
  r.resetPeakMemory();
  let kept = 0;
  r.tidy(() => {
    const loss = nabla.autocast('cpu', () => forward(r, m, x), { enabled });
    kept = bytes() - before;
    loss.backward();
  });
  const peak = r.memory().byDevice.cpu!.peakBytes - before;
  const grads = m.flatMap((b) => [...b.parameters()]).map((p) => values(p.grad!));
  expect(m.flatMap((b) => [...b.parameters()]).every((p) => p.grad!.dtype === 'float32')).toBe(true);
  for (const p of m.flatMap((b) => [...b.parameters()])) p.grad = null;
  return { kept, peak, grads };
}

describe('autocast memory', () => {
  it('an MLP forward under autocast keeps about half the bytes of float32', ({ skip }) => {
    if (!hasBf16) return skip('no bfloat16 dtype on the CPU backend');
    const m = mlp(rt);
    const x = rt.randn([1024, 64]);
    step(rt, m, x, false); // warm-up
    const f32 = step(rt, m, x, false);
    const half = step(rt, m, x, true);
    const ratio = half.kept / f32.kept;
    console.log(`amp memory: float32 keeps ${f32.kept} B, autocast ${half.kept} B (${(100 * ratio).toFixed(1)}%); peak ${f32.peak} → ${half.peak} B`);
    expect(f32.kept).toBeGreaterThanOrEqual(1024 * 64 * 4 * BLOCKS); // one float32 activation per block
    // bfloat16: 13 activations of half the bytes (the input's copy is the 13th) and the weights'
    // casts, against 12 float32 ones: about 0.57.
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(0.62);
    expect(half.peak).toBeLessThan(f32.peak);
    // The same gradients within bfloat16 accuracy (12 layers of 8-bit mantissas: a few percent).
    half.grads.forEach((g, i) => {
      const ref = f32.grads[i]!;
      const norm = Math.hypot(...ref);
      const err = Math.hypot(...g.map((v, k) => v - ref[k]!));
      expect(err / norm, `gradient ${i}`).toBeLessThan(0.1);
    });
    x.dispose();
  });

  it('saves exactly the tensors PyTorch 1.13 saves, so its 16-bit activations take half the bytes', ({ skip }) => {
    if (!hasBf16) return skip('no bfloat16 dtype on the CPU backend');
    // fixtures/make_amp_saved_fixture.py: every tensor PyTorch's pack hook receives, once per storage.
    expect([saved.blocks, saved.width, saved.batch]).toEqual([BLOCKS, 64, 1024]);
    const m = mlp(rt);
    const x = rt.randn([1024, 64]);
    const count = (enabled: boolean): Saved[] => {
      const seen = new Map<object, Saved>();
      const pack = (t: Tensor): Tensor => {
        const s = (t as unknown as { _view(): { storage: { byteLength: number } } })._view().storage;
        if (!seen.has(s)) seen.set(s, { shape: [...t.shape], dtype: t.dtype, bytes: s.byteLength });
        return t;
      };
      rt.tidy(() => rt.savedTensorsHooks(pack, (t) => t, () => nabla.autocast('cpu', () => forward(rt, m, x), { enabled })).backward());
      return sorted([...seen.values()]);
    };
    const sorted = (vs: Saved[]): Saved[] => [...vs].sort((a, b) => (`${a.shape.join('x')} ${a.dtype}` < `${b.shape.join('x')} ${b.dtype}` ? -1 : 1));
    const f32 = count(false);
    const half = count(true);
    expect(f32).toEqual(sorted(saved.float32));
    expect(half).toEqual(sorted(saved.autocast));
    const acts = (vs: Saved[]): number => vs.filter((v) => v.shape[0] === 1024).reduce((a, v) => a + v.bytes, 0);
    expect(acts(half) / acts(f32)).toBe(0.5);
    x.dispose();
  });
});
