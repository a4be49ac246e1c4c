/**
 * The indexing family against the primitives it is composed from, in the same run: readable
 * slicing vs narrow/indexSelect, einsum vs matmul/bmm, flip vs indexSelect with a reversed index,
 * tril vs maskedFill, maskedSelect vs indexSelect of the same rows. The ratio (primitive's time /
 * readable's, below 1× when the readable form is slower) is what the convenience costs: parsing, planning and the extra ops of the composition.
 */
import { einsum, type Runtime, type Tensor } from '@nabla/core';
import { settle } from '../devices.js';
import { bench } from '../report/recorder.js';
import { time } from '../timing.js';

interface Pair {
  name: string;
  make: (rt: Runtime, device: string, n: number) => Record<string, Tensor>;
  readable: (t: Record<string, Tensor>) => Tensor;
  primitive: (t: Record<string, Tensor>) => Tensor;
  /** Mask ops read the mask on the host; devices read asynchronously are left out. */
  syncOnly?: boolean;
}

const PAIRS: Pair[] = [
  {
    name: "x.index([':', '10%:90%'])  vs  x.narrow(1, ...)",
    make: (rt, device, n) => ({ x: rt.randn([n, n], { device, requiresGrad: true }) }),
    readable: (t) => t.x!.index([':', `${Math.round(t.x!.shape[1]! / 10)}:${Math.round(t.x!.shape[1]! * 0.9)}`]),
    primitive: (t) => t.x!.narrow(1, Math.round(t.x!.shape[1]! / 10), Math.round(t.x!.shape[1]! * 0.9) - Math.round(t.x!.shape[1]! / 10)),
  },
  {
    name: 'x.index([rows])  vs  x.indexSelect(0, rows)',
    make: (rt, device, n) => ({
      x: rt.randn([n, n], { device, requiresGrad: true }),
      rows: rt.tensor(Int32Array.from({ length: n / 2 }, (_, i) => (i * 7) % n), { device }),
    }),
    readable: (t) => t.x!.index([t.rows!]),
    primitive: (t) => t.x!.indexSelect(0, t.rows!),
  },
  {
    name: "einsum('bij,bjk->bik')  vs  bmm (32×n/8×n/8)",
    make: (rt, device, n) => ({ a: rt.randn([32, n / 8, n / 8], { device, requiresGrad: true }), b: rt.randn([32, n / 8, n / 8], { device }) }),
    readable: (t) => einsum('bij,bjk->bik', t.a!, t.b!),
    primitive: (t) => t.a!.bmm(t.b!),
  },
  {
    name: "einsum('ij,kj->ik')  vs  a.matmul(b.t()) ((n/2)²)",
    make: (rt, device, n) => ({ a: rt.randn([n / 2, n / 2], { device, requiresGrad: true }), b: rt.randn([n / 2, n / 2], { device }) }),
    readable: (t) => einsum('ij,kj->ik', t.a!, t.b!),
    primitive: (t) => t.a!.matmul(t.b!.t()),
  },
  {
    name: 'x.flip(0)  vs  x.indexSelect(0, reversed)',
    make: (rt, device, n) => ({
      x: rt.randn([n, n], { device, requiresGrad: true }),
      rev: rt.tensor(Int32Array.from({ length: n }, (_, i) => n - 1 - i), { device }),
    }),
    readable: (t) => t.x!.flip(0),
    primitive: (t) => t.x!.indexSelect(0, t.rev!),
  },
  {
    name: 'x.tril()  vs  x.maskedFill(upper, 0)',
    make: (rt, device, n) => {
      const upper = new Uint8Array(n * n);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) upper[i * n + j] = 1;
      return { x: rt.randn([n, n], { device, requiresGrad: true }), upper: rt.tensor(upper, { device, shape: [n, n], dtype: 'bool' }) };
    },
    readable: (t) => t.x!.tril(),
    primitive: (t) => t.x!.maskedFill(t.upper!, 0),
  },
  {
    name: 'x.maskedSelect(m)  vs  x.flatten().indexSelect(0, rows of m)',
    make: (rt, device, n) => {
      const x = rt.randn([n, n], { device, requiresGrad: true });
      const m = x.detach().gt(0);
      const host = m.dataSync();
      const rows: number[] = [];
      host.forEach((v, i) => {
        if (v) rows.push(i);
      });
      return { x, m, rows: rt.tensor(Int32Array.from(rows), { device }) };
    },
    readable: (t) => t.x!.maskedSelect(t.m!),
    primitive: (t) => t.x!.flatten().indexSelect(0, t.rows!),
    syncOnly: true,
  },
];

export async function indexingSuite(rt: Runtime, devices: string[]): Promise<Record<string, number>> {
  bench.table('indexing', { title: 'Indexing family vs the primitives it is made of, float32 (ms)', description: 'The ratio column is what the convenience costs: below 1× the readable form is slower.', against: ['primitive'], wide: { ratios: [['readable', 'primitive']] } });
  const ratios: Record<string, number> = {};
  for (const device of devices) {
    const sync = device === 'cpu';
    // WebGPU's scatterAdd scans the index per output element (O(out × rows)), which the backward
    // of row indexing uses: a software adapter needs minutes at 1000², so WebGPU runs 256².
    const n = bench.quick ? (device === 'cpu' ? 128 : 64) : device === 'cpu' ? 1000 : 256;
    for (const p of PAIRS) {
      if (p.syncOnly && !sync) continue;
      rt.manualSeed(3);
      const t = p.make(rt, device, n);
      const ms: Record<string, { f: number; fb: number; fs: number[]; fbs: number[] }> = {};
      for (const [impl, fn] of Object.entries({ readable: p.readable, primitive: p.primitive })) {
        const fwd = async (): Promise<void> => {
          const y = rt.noGrad(() => fn(t));
          await settle(rt, device, y);
          y.dispose();
        };
        const fwdBwd = async (): Promise<void> => {
          rt.tidy(() => fn(t).sum().backward());
          const g = Object.values(t).find((v) => v.grad !== null)!;
          await settle(rt, device, g.grad!);
          g.grad!.dispose();
          g.grad = null;
        };
        const f = await time(fwd);
        const fb = await time(fwdBwd);
        ms[impl] = { f: f.ms, fb: fb.ms, fs: f.samples, fbs: fb.samples };
      }
      const r = ms.readable!;
      const q = ms.primitive!;
      for (const [pass, key] of [['forward', 'fs'], ['forward+backward', 'fbs']] as const) {
        for (const [impl, m] of Object.entries(ms)) bench.record({ workload: `${p.name}, ${pass} · ${device} n=${n}`, impl, device, unit: 'ms', better: 'lower', samples: m[key] });
      }
      ratios[`${p.name} ${device}`] = r.fb / q.fb;
      for (const v of Object.values(t)) v.dispose();
    }
  }
  return ratios;
}
