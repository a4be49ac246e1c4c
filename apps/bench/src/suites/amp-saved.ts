/**
 * What the amp suite's graph saves for backward, counted the way PyTorch exposes it: every tensor
 * the pack hook of `savedTensorsHooks` receives, each storage once (ReLU's output is saved by the
 * ReLU and by the next Linear). A saved tensor with the batch as a dim is an activation; the rest
 * are parameters or their autocast copies (the weight casts cached per autocast region).
 *
 * This differs from the suite's live-bytes column, which counts only memory the forward *made*:
 * in float32 the input and the weights that a Linear saves already existed, while under autocast
 * their 16-bit copies are new. PyTorch's own count (`peers/torch_amp_saved.py`) is run beside it
 * for the same model and batch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@nabla/core';

export interface SavedCount {
  activationBytes: number;
  weightBytes: number;
  /** `shape dtype` of each saved storage, activations first. */
  tensors: string[];
}

/** The storage behind a tensor (core's kernel view), the identity PyTorch's `storage().data_ptr()` gives. */
function storageOf(t: Tensor): { byteLength: number } {
  return (t as unknown as { _view(): { storage: { byteLength: number } } })._view().storage;
}

/** A pack hook that records what is saved, and the count once the forward is done. */
export function savedCounter(batch: number): { pack: (t: Tensor) => Tensor; count: () => SavedCount } {
  if (batch === 256) throw new Error('amp: the batch must differ from the feature size (256) to tell activations from weights');
  const seen = new Map<object, { shape: readonly number[]; dtype: string; bytes: number }>();
  return {
    pack: (t) => {
      const s = storageOf(t);
      if (!seen.has(s)) seen.set(s, { shape: t.shape, dtype: t.dtype, bytes: s.byteLength });
      return t;
    },
    count: () => {
      const all = [...seen.values()];
      const acts = all.filter((v) => v.shape.includes(batch));
      const weights = all.filter((v) => !v.shape.includes(batch));
      const sum = (xs: typeof all): number => xs.reduce((a, v) => a + v.bytes, 0);
      const label = (v: (typeof all)[number]): string => `[${v.shape.join(',')}] ${v.dtype}`;
      return { activationBytes: sum(acts), weightBytes: sum(weights), tensors: [...acts.map(label), ...weights.map(label)] };
    },
  };
}

const PYTHON = process.env.NABLA_BENCH_PYTHON ?? '/usr/bin/python3';

/** PyTorch's count for the same MLP and batch (float32 and CPU autocast), or why there is none. */
export function torchSavedCounts(batch: number): { float32: SavedCount; autocast: SavedCount; torch: string } | { missing: string } {
  if (!existsSync(PYTHON)) return { missing: `${PYTHON} not found` };
  const script = fileURLToPath(new URL('../../src/peers/torch_amp_saved.py', import.meta.url));
  const r = spawnSync(PYTHON, [script], { input: JSON.stringify({ batch }), encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) return { missing: (r.stderr || r.error?.message || 'failed').trim().split('\n').pop() ?? 'failed' };
  type Py = { activation_bytes: number; weight_bytes: number; activations: [number[], string][]; weights: [number[], string][] };
  const d = JSON.parse(r.stdout) as { torch: string; float32: Py; 'autocast bfloat16': Py };
  const conv = (p: Py): SavedCount => ({
    activationBytes: p.activation_bytes,
    weightBytes: p.weight_bytes,
    tensors: [...p.activations, ...p.weights].map(([s, dt]) => `[${s.join(',')}] ${dt}`),
  });
  return { float32: conv(d.float32), autocast: conv(d['autocast bfloat16']), torch: d.torch };
}
