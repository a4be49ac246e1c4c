/**
 * nanDetector finds a planted NaN (a log of negative numbers in layer 2) and names the module, the
 * op and "produced", on the CPU (at once) and on WebGPU (one batched read in check(), then a rerun
 * to locate); and in backward, the node whose gradient went bad.
 */
import { createRuntime, NablaError, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as nn from '@nabla/nn';
import { afterAll, describe, expect, it } from 'vitest';
import { nanDetector, type NanReport } from '../src/index.js';

/** A Linear whose output goes through log(y - 5): NaN wherever y < 5. */
class LogLinear extends nn.Linear {
  override forward(x: Tensor): Tensor {
    return super.forward(x).sub(5).log();
  }
}

class Block extends nn.Module {
  fc1: nn.Linear;
  constructor(rt: Runtime, planted: boolean) {
    super();
    this.fc1 = planted ? new LogLinear(4, 4, { runtime: rt }) : new nn.Linear(4, 4, { runtime: rt });
  }
  override forward(x: Tensor): Tensor {
    return this.fc1.call(x).tanh();
  }
}

class Net extends nn.Module {
  layers: nn.ModuleList;
  constructor(rt: Runtime, plantAt: number) {
    super();
    this.layers = new nn.ModuleList([0, 1, 2].map((i) => new Block(rt, i === plantAt)));
  }
  override forward(x: Tensor): Tensor {
    for (const l of this.layers.children()) x = (l as Block).call(x);
    return x;
  }
}

function caught(fn: () => unknown): NablaError & { nan: NanReport } {
  try {
    fn();
  } catch (e) {
    return e as NablaError & { nan: NanReport };
  }
  throw new Error('expected a NablaError');
}

async function rejected(p: Promise<unknown>): Promise<NablaError & { nan: NanReport }> {
  try {
    await p;
  } catch (e) {
    return e as NablaError & { nan: NanReport };
  }
  throw new Error('expected a rejection');
}

describe('nanDetector on the CPU', () => {
  it('throws at the planted log, naming layers.2.fc1, the op, "produced", the index and the stack', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    rt.manualSeed(1);
    const net = new Net(rt, 2);
    const det = nanDetector(net);
    const e = caught(() => net.call(rt.randn([3, 4])));
    expect(e).toBeInstanceOf(NablaError);
    expect(e.nan).toMatchObject({ phase: 'forward', module: 'layers.2.fc1', moduleClass: 'LogLinear', op: 'log', node: 'LogBackward0', cause: 'produced', index: [0, 0], shape: [3, 4] });
    expect(e.message).toMatch(/NaN produced in forward of module 'layers\.2\.fc1' \(LogLinear\) by op 'log' \(LogBackward0\) at index \[0, 0\]/);
    expect(e.message).toContain('Forward stack where it was created');
    expect(e.nan.stack).toContain('nan-detector.test.ts');
    det.remove();
    // Removed: the same forward runs through.
    expect(() => net.call(rt.randn([3, 4]))).not.toThrow();
  });

  it('says "passed on" when the NaN came in with the input', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    const net = new Net(rt, -1);
    const det = nanDetector(net);
    const e = caught(() => net.call(rt.tensor([[NaN, 1, 2, 3]])));
    expect(e.nan).toMatchObject({ module: 'layers.0.fc1', cause: 'passed on' });
    det.remove();
  });

  it('finds the backward node that made a bad gradient', async () => {
    const rt = await createRuntime({ plugins: [cpuBackend()] });
    class SqrtRelu extends nn.Module {
      fc: nn.Linear = new nn.Linear(3, 3, { runtime: rt });
      override forward(x: Tensor): Tensor {
        return this.fc.call(x).relu().sqrt(); // sqrt'(0) = inf where relu clamps
      }
    }
    const m = new nn.Sequential(new SqrtRelu());
    rt.noGrad(() => (m.get(0) as SqrtRelu).fc.weight.fill_(-1));
    const det = nanDetector(m, { inf: true });
    const y = m.call(rt.ones([2, 3]));
    const e = caught(() => y.sum().backward());
    expect(e.nan).toMatchObject({ phase: 'backward', module: '0', node: 'SqrtBackward0', op: 'sqrt', cause: 'produced' });
    det.remove();
  });
});

// ---- WebGPU: the backend is optional here; the suite says why it skips.
const gpu = await (async (): Promise<{ rt: Runtime; description: string } | { reason: string }> => {
  try {
    const mod = await import('@nabla/backend-webgpu');
    const p = await mod.probeNodeAdapter();
    if (!p.ok) return { reason: p.reason };
    const rt = await createRuntime({ plugins: [cpuBackend(), mod.webgpuBackend(p.options)] });
    return { rt, description: p.description };
  } catch (e) {
    return { reason: (e as Error).message };
  }
})();
if ('reason' in gpu) console.log(`[nanDetector webgpu] SKIPPED: ${gpu.reason}`);

describe.skipIf('reason' in gpu)('nanDetector on WebGPU', () => {
  const rt = 'rt' in gpu ? gpu.rt : (null as unknown as Runtime);
  afterAll(async () => {
    await rt?.dispose();
  });

  it('reads the flags once in check(), reruns the module and names layers.2.fc1, log and "produced"', async () => {
    rt.manualSeed(1);
    const net = new Net(rt, 2).to('webgpu');
    const det = nanDetector(net);
    const y = net.call(rt.randn([3, 4]).to('webgpu')); // no read, no throw: the device is asynchronous
    expect(y.device).toBe('webgpu');
    const e = await rejected(det.check());
    expect(e).toBeInstanceOf(NablaError);
    expect(e.nan).toMatchObject({ phase: 'forward', module: 'layers.2.fc1', op: 'log', node: 'LogBackward0', cause: 'produced', index: [0, 0] });
    // Clean steps pass.
    const clean = new Net(rt, -1).to('webgpu');
    const det2 = nanDetector(clean);
    clean.call(rt.randn([3, 4]).to('webgpu')).sum().backward();
    await det2.check();
    det.remove();
    det2.remove();
  });

  it('names the op in a module without parameters (its input requires grad)', async () => {
    class LogOnly extends nn.Module {
      override forward(x: Tensor): Tensor {
        return x.log();
      }
    }
    rt.manualSeed(2);
    const m = new nn.Sequential(new nn.Linear(4, 4, { runtime: rt }), new LogOnly()).to('webgpu');
    const det = nanDetector(m);
    m.call(rt.randn([3, 4]).to('webgpu')).sum().backward();
    const e = await rejected(det.check());
    expect(e.nan).toMatchObject({ phase: 'forward', module: '1', moduleClass: 'LogOnly', op: 'log', node: 'LogBackward0', cause: 'produced' });
    det.remove();
  });

  it('flags a bad backward gradient on the device and names the node in check()', async () => {
    class SqrtRelu extends nn.Module {
      fc: nn.Linear = new nn.Linear(3, 3, { runtime: rt });
      override forward(x: Tensor): Tensor {
        return this.fc.call(x).relu().sqrt(); // sqrt'(0) = inf where relu clamps
      }
    }
    const m = new nn.Sequential(new SqrtRelu());
    rt.noGrad(() => (m.get(0) as SqrtRelu).fc.weight.fill_(-1));
    m.to('webgpu');
    const det = nanDetector(m, { inf: true });
    m.call(rt.ones([2, 3]).to('webgpu')).sum().backward();
    const e = await rejected(det.check());
    expect(e.nan).toMatchObject({ phase: 'backward', module: '0', node: 'SqrtBackward0', op: 'sqrt', cause: 'produced' });
    det.remove();
  });
});
