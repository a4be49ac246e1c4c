/**
 * Module: registration by assignment and explicitly, PyTorch's dotted names, traversal,
 * train/eval, zeroGrad, to(), buffers, and state dicts (round trip, strict errors).
 */
import type { Runtime, Tensor } from '@nabla/core';
import { NablaError } from '@nabla/core';
import { beforeAll, describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime, values } from './helpers.js';

let rt: Runtime;
beforeAll(async () => {
  rt = await cpuRuntime();
});

class Block extends nn.Module {
  fc: nn.Linear;
  act = new nn.ReLU();
  constructor(n: number) {
    super();
    this.fc = new nn.Linear(n, n, { runtime: rt });
    this.registerBuffer('steps', rt.zeros([]));
    this.registerBuffer('scratch', rt.zeros([2]), { persistent: false });
  }
  override forward(x: Tensor): Tensor {
    return this.act.call(this.fc.call(x));
  }
}

class Net extends nn.Module {
  layers = new nn.ModuleList([new Block(4), new Block(4)]);
  head = new nn.Linear(4, 2, { runtime: rt, bias: false });
  scale = new nn.Parameter(rt.ones([1]));
  plain = 3; // not registered
  override forward(x: Tensor): Tensor {
    let h = x;
    for (const b of this.layers) h = (b as Block).call(h);
    return this.head.call(h).mul(this.scale);
  }
}

describe('registration and names', () => {
  it('registers parameters and submodules by assignment, with dotted names in order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'scale',
      'layers.0.fc.weight',
      'layers.0.fc.bias',
      'layers.1.fc.weight',
      'layers.1.fc.bias',
      'head.weight',
    ]);
    expect(net.parameters().length).toBe(6);
    expect(net.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad && p.isLeaf)).toBe(true);
    expect(net.namedModules().map(([n, m]) => `${n}:${m.constructor.name}`)).toEqual([
      ':Net',
      'layers:ModuleList',
      'layers.0:Block',
      'layers.0.act:ReLU', // class fields are assigned before the constructor body: act, then fc
      'layers.0.fc:Linear',
      'layers.1:Block',
      'layers.1.act:ReLU',
      'layers.1.fc:Linear',
      'head:Linear',
    ]);
    expect(net.children().map((m) => m.constructor.name)).toEqual(['ModuleList', 'Linear']);
    expect(net.namedParameters({ recurse: false }).map(([n]) => n)).toEqual(['scale']);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['layers.0.steps', 'layers.0.scratch', 'layers.1.steps', 'layers.1.scratch']);
    expect(net.plain).toBe(3);
  });

  it('Sequential names children 0, 1, ... or by key; registerModule / registerParameter work explicitly', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 3, { runtime: rt }), new nn.Tanh(), new nn.Linear(3, 1, { runtime: rt }));
    expect(seq.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const named = new nn.Sequential({ fc1: new nn.Linear(2, 3, { runtime: rt }), act: new nn.ReLU() });
    expect(named.namedParameters().map(([n]) => n)).toEqual(['fc1.weight', 'fc1.bias']);
    const m = new nn.Module();
    m.registerModule('enc', new nn.Linear(1, 1, { runtime: rt }));
    m.registerParameter('w', new nn.Parameter(rt.zeros([2])));
    m.registerParameter('absent', null);
    expect(m.namedParameters().map(([n]) => n)).toEqual(['w', 'enc.weight', 'enc.bias']); // 'absent' is a null placeholder
    expect(() => m.registerModule('a.b', new nn.ReLU())).toThrow(/can't contain "."/);
    expect(() => m.registerParameter('x', rt.zeros([1]) as nn.Parameter)).toThrow(/Parameter or null/);
  });

  it('reassigning and deleting update the registry; a shared parameter is listed once', () => {
    const net = new Net();
    const shared = new nn.Linear(4, 4, { runtime: rt });
    net.layers.append(shared).append(shared);
    expect(net.namedParameters().filter(([n]) => n.startsWith('layers.2')).length).toBe(2);
    expect(net.namedParameters().some(([n]) => n.startsWith('layers.3'))).toBe(false);
    net.head = new nn.Linear(4, 2, { runtime: rt });
    expect(net.namedParameters().map(([n]) => n)).toContain('head.bias');
    expect(() => {
      (net as unknown as { head: unknown }).head = 5;
    }).toThrow(/cannot assign 'number' as child module 'head'/);
    delete (net as unknown as { head?: unknown }).head;
    expect(net.namedParameters().some(([n]) => n.startsWith('head'))).toBe(false);
  });
});

describe('modes and gradients', () => {
  it('train() / eval() set every submodule; Dropout is the identity in eval', () => {
    const seq = new nn.Sequential(new nn.Linear(8, 8, { runtime: rt }), new nn.Dropout(0.5));
    expect(seq.modules().every((m) => m.training)).toBe(true);
    seq.eval();
    expect(seq.modules().some((m) => m.training)).toBe(false);
    const x = rt.ones([4, 8]);
    expect(values(seq.get(1).call(x) as Tensor)).toEqual(values(x));
    seq.train();
    expect(seq.get(1).training).toBe(true);
  });

  it('zeroGrad() disposes and drops the gradients; setToNone: false zeroes them in place', () => {
    const lin = new nn.Linear(3, 2, { runtime: rt });
    lin.call(rt.ones([1, 3])).sum().backward();
    const g = lin.weight.grad!;
    lin.zeroGrad({ setToNone: false });
    expect(lin.weight.grad).toBe(g);
    expect(values(g)).toEqual([0, 0, 0, 0, 0, 0]);
    lin.zeroGrad();
    expect(lin.weight.grad).toBeNull();
    expect(g.isDisposed).toBe(true);
  });

  it('to(dtype) casts parameters, gradients and buffers (integer dtypes refused)', () => {
    const b = new Block(3);
    b.call(rt.ones([1, 3])).sum().backward();
    b.to('float64');
    expect(b.fc.weight.dtype).toBe('float64');
    expect(b.fc.weight.grad!.dtype).toBe('float64');
    expect(b.parameters()[0]).toBe(b.fc.weight);
    expect(b.buffers().map((t) => t.dtype)).toEqual(['float64', 'float64']);
    expect(() => b.to('int32')).toThrow(/only accepts floating point dtypes/);
    expect(b.call(rt.ones([2, 3], { dtype: 'float64' })).dtype).toBe('float64');
  });
});

describe('state dicts', () => {
  it("holds each module's parameters and persistent buffers before its children's, and round-trips", () => {
    const a = new Net();
    const sd = a.stateDict();
    expect(Object.keys(sd)).toEqual([
      'scale',
      'layers.0.steps',
      'layers.0.fc.weight',
      'layers.0.fc.bias',
      'layers.1.steps',
      'layers.1.fc.weight',
      'layers.1.fc.bias',
      'head.weight',
    ]);
    expect(sd['head.weight']!.requiresGrad).toBe(false);
    const b = new Net();
    expect(values(b.head.weight)).not.toEqual(values(a.head.weight));
    expect(b.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [name, p] of b.namedParameters()) expect(values(p)).toEqual(values(sd[name]!));
    const x = rt.randn([3, 4]);
    expect(values(b.call(x))).toEqual(values(a.call(x)));
  });

  it('strict loading lists missing and unexpected keys; strict: false reports them', () => {
    const net = new Net();
    const sd = net.stateDict();
    delete sd['head.weight'];
    delete sd['layers.1.steps'];
    sd['extra.weight'] = rt.zeros([1]);
    let err: unknown;
    try {
      net.loadStateDict(sd);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NablaError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/Error\(s\) in loading state_dict for Net/);
    expect(msg).toMatch(/Unexpected key\(s\) in state_dict: "extra.weight"/);
    expect(msg).toMatch(/Missing key\(s\) in state_dict: "layers.1.steps", "head.weight"/);
    expect(net.loadStateDict(sd, { strict: false })).toEqual({ missingKeys: ['layers.1.steps', 'head.weight'], unexpectedKeys: ['extra.weight'] });
  });

  it('a shape mismatch names the key and both shapes, even when not strict', () => {
    const net = new Net();
    const sd = net.stateDict();
    sd['layers.0.fc.weight'] = rt.zeros([4, 5]);
    const expected = /size mismatch for layers\.0\.fc\.weight: copying a param with shape \[4, 5\] from checkpoint, the shape in current model is \[4, 4\]/;
    expect(() => net.loadStateDict(sd)).toThrow(expected);
    expect(() => net.loadStateDict(sd, { strict: false })).toThrow(expected);
  });

  it('toString prints the tree as PyTorch does', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 3, { runtime: rt }), new nn.ReLU());
    expect(seq.toString()).toBe('Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=true)\n  (1): ReLU()\n)');
  });
});
