/**
 * Shared by the tests: the spiral data set and MLP of @nabla/nn's spiral example, a plain
 * recomputation of Stats from values, and headless Chromium for screenshots.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Runtime, Tensor } from '@nabla/core';
import * as nn from '@nabla/nn';
import type { Stats } from '../src/index.js';
import { spiralData } from '../../nn/examples/spiral.js';

/** CS231n's spiral: `classes` arms of `perClass` points; the data set of @nabla/nn's spiral example. */
export function spiral(perClass = 100, classes = 3, seed = 1): { x: Float32Array; y: Int32Array } {
  return spiralData(perClass, classes, 0.2, seed);
}

/** The spiral example's MLP: 2 → hidden → hidden → 3 with ReLUs. */
export function spiralMlp(rt: Runtime, hidden = 64, opts: { dtype?: 'float32' | 'float64'; device?: string } = {}): nn.Sequential {
  rt.manualSeed(0);
  const o = { runtime: rt, dtype: opts.dtype ?? 'float32' };
  const m = new nn.Sequential(new nn.Linear(2, hidden, o), new nn.ReLU(), new nn.Linear(hidden, hidden, o), new nn.ReLU(), new nn.Linear(hidden, 3, o));
  return opts.device && opts.device !== 'cpu' ? m.to(opts.device) : m;
}

/** Stats from plain values, by the definitions (torch.histc over the finite range). */
export function plainStats(values: ArrayLike<number>, bins: number): Stats {
  const v = Array.from(values);
  const n = v.length;
  const finite = v.filter((x) => Number.isFinite(x));
  const mean = v.reduce((s, x) => s + x, 0) / n;
  const std = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const min = finite.length ? Math.min(...finite) : Infinity;
  const max = finite.length ? Math.max(...finite) : -Infinity;
  const lo = min === max ? min - 1 : min;
  const hi = min === max ? max + 1 : max;
  const counts = new Array<number>(bins).fill(0);
  for (const x of finite) counts[Math.min(bins - 1, Math.max(0, Math.floor(((x - lo) / (hi - lo)) * bins)))]! += 1;
  return { numel: n, mean, std, norm, min, max, nanCount: v.filter((x) => Number.isNaN(x)).length, infCount: v.filter((x) => Math.abs(x) === Infinity).length, histogram: { min: lo, max: hi, counts } };
}

/**
 * Full collections, each followed by a turn of the event loop so that finalizers run: what was
 * dropped earlier is uncounted now, not in the middle of a measurement that awaits the device.
 */
export async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

export const SCREENSHOTS = new URL('../screenshots/', import.meta.url);

/** Headless Chromium through playwright-core, or why there is none. */
export async function openChromium(): Promise<{ ok: true; browser: import('playwright-core').Browser } | { ok: false; reason: string }> {
  const path = process.env.NABLA_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(path)) return { ok: false, reason: `no Chromium at ${path} (install Debian's 'chromium' package, or set NABLA_CHROMIUM)` };
  try {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: path, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'], timeout: 60_000 });
    mkdirSync(SCREENSHOTS, { recursive: true });
    return { ok: true, browser };
  } catch (e) {
    return { ok: false, reason: `Chromium did not start: ${(e as Error).message.split('\n')[0]}` };
  }
}
