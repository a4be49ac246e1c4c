/**
 * autocast's region bookkeeping (no backend needed): nesting, `enabled: false` inside, per device
 * type, restored after a throw and after a Promise settles, argument errors, the op tables.
 */
import { describe, expect, it } from 'vitest';
import { autocast } from './autocast.js';
import { CPU_OP_POLICY, GPU_OP_POLICY, opPolicyTable } from './op-lists.js';
import { activePolicy, AMP, getAutocastDType, isAutocastEnabled } from './state.js';

describe('autocast regions', () => {
  it('turns on for its device type only, with PyTorch defaults, and off after', () => {
    expect(isAutocastEnabled('cpu')).toBe(false);
    const seen = autocast('cpu', () => [isAutocastEnabled('cpu'), isAutocastEnabled('webgpu'), getAutocastDType('cpu'), AMP.active]);
    expect(seen).toEqual([true, false, 'bfloat16', true]);
    expect(autocast('webgpu', () => getAutocastDType('webgpu'))).toBe('float16');
    expect(autocast('webgpu:1', () => isAutocastEnabled('webgpu'))).toBe(true);
    expect(isAutocastEnabled('cpu')).toBe(false);
    expect(AMP.active).toBe(false);
  });

  it('nests: inner settings win until the inner region ends; enabled:false turns it off inside', () => {
    autocast('cpu', () => {
      autocast('cpu', () => expect(getAutocastDType('cpu')).toBe('float16'), { dtype: 'float16' });
      expect(getAutocastDType('cpu')).toBe('bfloat16');
      autocast(
        'cpu',
        () => {
          expect(isAutocastEnabled('cpu')).toBe(false);
          expect(activePolicy('mm', 'cpu')).toBe(null);
          autocast('cpu', () => expect(activePolicy('mm', 'cpu')).toBe('lower'));
        },
        { enabled: false },
      );
      expect(isAutocastEnabled('cpu')).toBe(true);
      expect(activePolicy('mm', 'cpu')).toBe('lower');
      expect(activePolicy('softmax', 'cpu')).toBe(null);
      expect(activePolicy('mseLoss', 'cpu')).toBe('fp32');
    });
    expect(AMP.depth).toBe(0);
  });

  it('restores the state when fn throws', () => {
    expect(() =>
      autocast('cpu', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isAutocastEnabled('cpu')).toBe(false);
    expect(AMP.depth).toBe(0);
  });

  it('with an async fn, the region lasts until the Promise settles', async () => {
    let inside: boolean[] = [];
    const p = autocast('cpu', async () => {
      inside.push(isAutocastEnabled('cpu'));
      await new Promise((r) => setTimeout(r, 1));
      inside.push(isAutocastEnabled('cpu'));
      return 7;
    });
    expect(isAutocastEnabled('cpu')).toBe(true); // still pending
    expect(await p).toBe(7);
    expect(inside).toEqual([true, true]);
    expect(isAutocastEnabled('cpu')).toBe(false);
    inside = [];
    await expect(autocast('cpu', () => Promise.reject(new Error('late')))).rejects.toThrow('late');
    expect(isAutocastEnabled('cpu')).toBe(false);
    expect(AMP.depth).toBe(0);
  });

  it('refuses bad arguments with a NablaError naming autocast', () => {
    expect(() => autocast(3 as never, () => 0)).toThrow(/^autocast: expected a device type/);
    expect(() => autocast('cpu', 5 as never)).toThrow(/expected a function/);
    expect(() => autocast('cpu', () => 0, { dtype: 'float32' as never })).toThrow(/dtype must be 'float16' or 'bfloat16'.*"float32"/);
    expect(() => autocast('cpu', () => 0, { enabled: 'yes' as never })).toThrow(/enabled must be a boolean/);
    expect(AMP.depth).toBe(0);
  });
});

describe('op lists', () => {
  it("are PyTorch 1.13's: CPU lists for 'cpu', CUDA lists for GPU devices", () => {
    expect(opPolicyTable('cpu')).toBe(CPU_OP_POLICY);
    expect(opPolicyTable('webgpu')).toBe(GPU_OP_POLICY);
    expect(opPolicyTable('webgl')).toBe(GPU_OP_POLICY);
    for (const op of ['mm', 'bmm', 'matmul', 'addmm', 'linear', 'conv2d']) {
      expect(CPU_OP_POLICY[op]).toBe('lower');
      expect(GPU_OP_POLICY[op]).toBe('lower');
    }
    for (const op of ['softmax', 'logSoftmax', 'exp', 'log', 'pow', 'sum', 'layerNorm', 'mseLoss', 'crossEntropy', 'logsumexp', 'norm']) {
      expect(GPU_OP_POLICY[op]).toBe('fp32');
    }
    // PyTorch 1.13's CPU autocast leaves these in the input's dtype.
    for (const op of ['softmax', 'exp', 'sum', 'layerNorm']) expect(CPU_OP_POLICY[op]).toBeUndefined();
    expect(CPU_OP_POLICY.cat).toBe('promote');
    expect(GPU_OP_POLICY.dot).toBe('promote');
    expect(Object.isFrozen(CPU_OP_POLICY)).toBe(true);
  });
});
