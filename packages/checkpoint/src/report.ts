/** `savedReport(fn, ...args)`: what a segment would save for backward, with bytes. */
import { NablaError, bytesPerElement, type Tensor } from '@nabla/core';
import { checkFn, runtimeOf, splitArgs } from './checkpoint.js';
import { isTensor } from './frame.js';
import type { SavedTensorInfo } from './policy.js';
import { currentModule } from './state.js';

export interface SavedReportEntry extends SavedTensorInfo {
  /**
   * `'input'`: one of the segment's arguments (a checkpoint keeps it anyway); `'outside'`: made
   * before the segment (a parameter: kept anyway); `'inside'`: made by the segment (what a
   * checkpoint frees).
   */
  source: 'input' | 'outside' | 'inside';
}

/**
 * Runs `fn(...args)` once with autograd recording and lists every tensor its ops save for
 * backward, in save order, with bytes; frees everything it made. The `'inside'` entries are what
 * a checkpoint of `fn` would free (and recompute).
 *
 * @example
 * const report = savedReport((h) => fc2.call(fc1.call(h).relu()), x);
 * report.filter((r) => r.source === 'inside').reduce((s, r) => s + r.bytes, 0); // bytes a checkpoint frees
 */
export function savedReport<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): SavedReportEntry[] {
  checkFn('savedReport', fn, 'savedReport(fn, ...args)');
  const { args: fnArgs, options } = splitArgs('savedReport', args);
  const rt = runtimeOf(fnArgs, options);
  const inputs = new Set(fnArgs.filter(isTensor));
  const out: SavedReportEntry[] = [];
  let lastOp = '(none)';
  let startId = Infinity;
  const onOp = (p: { op: string }): void => {
    lastOp = p.op;
  };
  const onCreate = (p: { id: number }): void => {
    if (startId === Infinity) startId = p.id;
  };
  const pack = (t: Tensor): null => {
    out.push({
      stage: 'saved',
      op: lastOp,
      producer: t.gradFn?.name() ?? null,
      module: currentModule(),
      shape: t.shape,
      dtype: t.dtype,
      device: t.device,
      bytes: t.numel() * bytesPerElement(t.dtype),
      source: inputs.has(t) ? 'input' : t.id < startId ? 'outside' : 'inside',
    });
    return null;
  };
  const unpack = (): Tensor => {
    throw new NablaError('the graph savedReport builds is not for backward', { op: 'savedReport' });
  };
  rt.events.on('op:dispatch', onOp).on('tensor:create', onCreate);
  try {
    rt.tidy(() => {
      rt.enableGrad(() => rt.savedTensorsHooks(pack, unpack, () => fn(...(fnArgs as A))));
    });
  } finally {
    rt.events.off('op:dispatch', onOp).off('tensor:create', onCreate);
  }
  return out;
}
