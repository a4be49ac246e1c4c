/**
 * registerBackwardHook, PyTorch's deprecated register_backward_hook, as PyTorch 1.13 behaves
 * (checked with torch): the hook sees the gradients of the node that made the output — for Linear
 * (AddmmBackward0) those w.r.t. bias [2], input [2, 3] and weightᵀ [3, 2] — and every call warns
 * "Using a non-full backward hook when the forward contains multiple autograd Nodes is deprecated
 * ..." when those are not the module's input gradients; mixing it with full hooks is an error.
 */
import type { MaybeGrad, Runtime } from '@nabla/core';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as nn from '../src/index.js';
import { warnings } from '../src/legacy-backward-hook.js';
import { cpuRuntime } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const MULTIPLE = /Using a non-full backward hook when the forward contains multiple autograd Nodes is deprecated and will be removed in future versions\. This hook will be missing some grad_input\. Please use register_full_backward_hook to get the documented behavior\./;

describe('registerBackwardHook (deprecated)', () => {
  it("sees Linear's AddmmBackward0 gradients (bias, input, weightᵀ) and warns as PyTorch does", () => {
    const warn = vi.spyOn(warnings, 'warn').mockImplementation(() => {});
    const fc = new nn.Linear(3, 2, { runtime: rt, dtype: 'float64' });
    const seen: [(number[] | null)[], number[][]][] = [];
    fc.registerBackwardHook((_m, gi, go) => void seen.push([gi.map((g) => (g ? [...g.shape] : null)), go.map((g) => [...g!.shape])]));
    expect(warn).not.toHaveBeenCalled(); // PyTorch warns when the module runs, not when the hook is added
    const x = rt.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64', requiresGrad: true });
    fc.call(x).sum().backward();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toMatch(MULTIPLE);
    expect(seen).toEqual([[[[2], [2, 3], [3, 2]], [[2, 2]]]]); // torch: ([[2], [2, 3], [3, 2]], [[2, 2]])
  });

  it('may replace the gradients (torch: ReLU hook doubling grad_input gives x.grad [0, 2])', () => {
    vi.spyOn(warnings, 'warn').mockImplementation(() => {});
    const relu = new nn.ReLU();
    relu.registerBackwardHook((_m, gi): MaybeGrad[] => [gi[0]!.mul(2)]);
    const x = rt.tensor([-1, 2], { requiresGrad: true });
    relu.call(x).sum().backward();
    expect(x.grad!.tolist()).toEqual([0, 2]);
  });

  it('does not warn for a single op on inputs that have a history', () => {
    const warn = vi.spyOn(warnings, 'warn').mockImplementation(() => {});
    const relu = new nn.ReLU();
    relu.registerBackwardHook(() => {});
    const x = rt.tensor([-1, 2], { requiresGrad: true });
    relu.call(x.mul(1)).sum().backward();
    expect(warn).not.toHaveBeenCalled();
  });

  it('refuses to mix with full backward hooks (torch: "Cannot use both regular backward hooks and full backward hooks ...")', () => {
    const a = new nn.Linear(3, 2, { runtime: rt });
    a.registerBackwardHook(() => {});
    expect(() => a.registerFullBackwardHook(() => {})).toThrow(/Cannot use both regular backward hooks and full backward hooks on a single Module\. Please use only one of them\./);
    const b = new nn.Linear(3, 2, { runtime: rt });
    b.registerFullBackwardHook(() => {});
    expect(() => b.registerBackwardHook(() => {})).toThrow(/Cannot use both regular backward hooks and full backward hooks/);
  });
});
