/**
 * Wrong calls of the public API, as a new user makes them, for a fuzz test on any device: each
 * case names the op that must appear in the NablaError and makes the call with a value drawn from
 * a pool of values that op must refuse (never one it may accept). Free of vitest, so the WebGPU
 * suite runs the same cases.
 */
import * as fc from 'fast-check';
import { autograd, NablaError, type Runtime, type Tensor } from '@nabla/core';
import * as nabla from '@nabla/core';

/** Values no shape argument may accept (each fails as a shape, whatever the tensor). */
const badShapes: unknown[] = [[1.5, 4], [NaN, 2], [-2], [Infinity], 'a', {}, [Symbol('s')], [2n], [1e6, 1e6], [[1]], true, [undefined, 'x']];
/** Values no scalar argument may accept. */
const badScalars: unknown[] = ['a', {}, [1, 2], Symbol('s'), 2n, () => 1];
/** Values no dim argument may accept (for a 2-D tensor). */
const badDims: unknown[] = [1.5, NaN, 'a', {}, 5, -7, Symbol('d'), 2n, [[0]], Infinity];
/** Values no size (a count: `eye(n)`, `linspace` steps) may accept. */
const badSizes: unknown[] = [-1, 1.5, NaN, Infinity, 'a', 1e12, {}, undefined, 2n];
const badFns: unknown[] = ['f', 1, {}, null, undefined, Symbol('f'), [() => 1]];
const badSeeds: unknown[] = ['abc', NaN, Infinity, {}, undefined, null, [1], 2n];
const badStates: unknown[] = [[1, 2], null, 'x', {}, [0, 0, 0, 0, 0], [1, 2, 3, 4, 'a'], [-1, 0, 0, 0, 0], [1.5, 0, 0, 0, 0], undefined];
const badTensors: unknown[] = [3, 'a', {}, null, undefined, [1, 2]];

/** Tensors made once, before the calls, so that memory() sees only what a call leaves. */
export interface Fixtures {
  /** float32 [[1, -2, 3], [4, 5, -6]] */
  x: Tensor;
  /** bool of the same shape */
  b: Tensor;
  m3: Tensor;
  m5: Tensor;
  v2: Tensor;
  m33: Tensor;
  /** a view: x.select(0, 0) */
  row: Tensor;
  /** a leaf that requires grad, a scalar and a non-scalar made from it (graphs kept), an unused leaf */
  w: Tensor;
  ws: Tensor;
  wy: Tensor;
  u: Tensor;
  /** int32 indices out of range for x: [5] and [[0, 9, 0]] */
  i5: Tensor;
  i9: Tensor;
}

export function fixtures(rt: Runtime, device: string): Fixtures {
  const x = rt.tensor([[1, -2, 3], [4, 5, -6]], { device });
  const w = rt.ones([2, 3], { device, requiresGrad: true });
  return { x, b: x.gt(0), m3: rt.ones([3, 2, 2], { device }), m5: rt.ones([5, 2, 7], { device }), v2: rt.ones([2], { device }), m33: rt.ones([3, 3], { device }), row: x.select(0, 0), w, ws: w.mul(2).sum(), wy: w.mul(3), u: rt.ones([2], { device, requiresGrad: true }), i5: rt.tensor([5], { device, dtype: 'int32' }), i9: rt.tensor([[0, 9, 0]], { device, dtype: 'int32' }) };
}

type Call = (rt: Runtime, device: string, x: Tensor, bad: never, f: Fixtures) => unknown;

interface Case {
  readonly op: string;
  readonly pool: readonly unknown[];
  readonly call: Call;
  /**
   * Refused only where a kernel sees the values at once (an index out of range): on an
   * asynchronous device (WebGPU) core never reads values, so the error cannot come at the call.
   */
  readonly syncOnly?: boolean;
}

const d = (device: string) => ({ device });

/** Module functions whose first argument must be a tensor (or, for elementwise ones, some argument). */
const TENSOR_FIRST = [
  'sum', 'mean', 'prod', 'amax', 'amin', 'max', 'min', 'logsumexp', 'std', 'var', 'norm', 'argmax', 'argmin', 'clamp', 'maskedFill',
  'matmul', 'mm', 'bmm', 'dot', 'outer', 'reshape', 'view', 'flatten', 'squeeze', 'unsqueeze', 'transpose', 'permute', 'expand', 't',
  'narrow', 'select', 'indexSelect', 'gather', 'scatterAdd', 'softmax', 'logSoftmax', 'clone', 'contiguous', 'detach', 'to',
  'neg', 'abs', 'exp', 'relu', 'sigmoid', 'add', 'mul', 'sub', 'pow', 'maximum', 'eq',
] as const;

/** Every public function, with the argument that gets the wrong value. */
export const CASES: readonly Case[] = [
  { op: 'zeros', pool: badShapes, call: (rt, dev, _x, b) => rt.zeros(b, d(dev)) },
  { op: 'ones', pool: badShapes, call: (rt, dev, _x, b) => rt.ones(b, d(dev)) },
  { op: 'rand', pool: badShapes, call: (rt, dev, _x, b) => rt.rand(b, d(dev)) },
  { op: 'randn', pool: badShapes, call: (rt, dev, _x, b) => rt.randn(b, d(dev)) },
  { op: 'full', pool: badShapes, call: (rt, dev, _x, b) => rt.full(b, 1, d(dev)) },
  { op: 'full', pool: [...badScalars, undefined, null], call: (rt, dev, _x, b) => rt.full([2, 3], b, d(dev)) },
  { op: 'zeros', pool: ['int32', 'bool'], call: (rt, dev, _x, b) => rt.zeros([2, 3], { device: dev, dtype: b, requiresGrad: true }) },
  { op: 'eye', pool: badSizes, call: (rt, dev, _x, b) => rt.eye(b, d(dev)) },
  { op: 'linspace', pool: badSizes, call: (rt, dev, _x, b) => rt.linspace(0, 1, b, d(dev)) },
  { op: 'arange', pool: [NaN, Infinity, 1e12, 'a', 2n, -Infinity], call: (rt, dev, _x, b) => rt.arange(b as never, d(dev)) },
  { op: 'zerosLike', pool: badTensors, call: (rt, _dev, _x, b) => rt.zerosLike(b) },
  { op: 'onesLike', pool: badTensors, call: (rt, _dev, _x, b) => rt.onesLike(b) },
  { op: 'manualSeed', pool: badSeeds, call: (rt, _dev, _x, b) => rt.manualSeed(b) },
  { op: 'setRngState', pool: badStates, call: (rt, _dev, _x, b) => rt.setRngState(b) },
  { op: 'noGrad', pool: badFns, call: (rt, _dev, _x, b) => rt.noGrad(b) },
  { op: 'enableGrad', pool: badFns, call: (rt, _dev, _x, b) => rt.enableGrad(b) },
  { op: 'inferenceMode', pool: badFns, call: (rt, _dev, _x, b) => rt.inferenceMode(b) },
  { op: 'tidy', pool: badFns, call: (rt, _dev, _x, b) => rt.tidy(b) },
  { op: 'reshape', pool: badShapes, call: (_rt, _dev, x, b) => x.reshape(b) },
  { op: 'view', pool: badShapes, call: (_rt, _dev, x, b) => x.view(b) },
  { op: 'expand', pool: badShapes, call: (_rt, _dev, x, b) => x.expand(b) },
  { op: 'sum', pool: badDims, call: (_rt, _dev, x, b) => x.sum(b) },
  { op: 'mean', pool: badDims, call: (_rt, _dev, x, b) => x.mean(b) },
  { op: 'amax', pool: badDims, call: (_rt, _dev, x, b) => x.amax(b) },
  { op: 'softmax', pool: [...badDims, undefined], call: (_rt, _dev, x, b) => x.softmax(b) },
  { op: 'logSoftmax', pool: [...badDims, undefined], call: (_rt, _dev, x, b) => x.logSoftmax(b) },
  { op: 'transpose', pool: badDims, call: (_rt, _dev, x, b) => x.transpose(b, 0) },
  { op: 'unsqueeze', pool: badDims.filter((v) => v !== 5 && v !== -7), call: (_rt, _dev, x, b) => x.unsqueeze(b) },
  { op: 'select', pool: badDims, call: (_rt, _dev, x, b) => x.select(b, 0) },
  { op: 'clamp', pool: badScalars, call: (_rt, _dev, x, b) => x.clamp(b, 1) },
  { op: 'clamp', pool: badScalars, call: (_rt, _dev, x, b) => x.clamp(0, b) },
  { op: 'fill_', pool: badScalars, call: (_rt, _dev, x, b) => x.fill_(b) },
  { op: 'matmul', pool: badTensors, call: (_rt, _dev, x, b) => x.matmul(b) },
  { op: 'norm', pool: ['nuc', 'a', {}, [2]], call: (_rt, _dev, x, b) => x.norm(b) },
  { op: 'neg', pool: [0], call: (_rt, _dev, _x, _b, f) => f.b.neg() },
  { op: 'sub', pool: [0, 1, true], call: (_rt, _dev, _x, b, f) => (b === 0 ? f.b.sub(f.b) : f.b.sub(b)) },
  { op: 'relu', pool: [0], call: (_rt, _dev, _x, _b, f) => f.b.relu() },
  { op: 'abs', pool: [0], call: (_rt, _dev, _x, _b, f) => f.b.abs() },
  { op: 'floor', pool: [0], call: (_rt, _dev, _x, _b, f) => f.b.floor() },
  { op: 'softmax', pool: [0, 1], call: (_rt, _dev, _x, b, f) => f.b.softmax(b) },
  { op: 'detach_', pool: [0], call: (_rt, _dev, _x, _b, f) => f.row.detach_() },
  { op: 'backward', pool: [null, undefined], call: (_rt, _dev, _x, b, f) => f.wy.backward(b) },
  { op: 'backward', pool: [0], call: (_rt, _dev, _x, _b, f) => f.wy.backward(f.v2) },
  { op: 'grad', pool: [0], call: (_rt, _dev, _x, _b, f) => autograd.grad(f.ws, [f.w, f.u], { retainGraph: true }) },
  { op: 'grad', pool: [0], call: (_rt, _dev, _x, _b, f) => autograd.grad(f.ws, [f.w, f.v2], { retainGraph: true }) },
  ...TENSOR_FIRST.map(
    (op): Case => ({ op, pool: [3, 'a', null, undefined, {}, [1, 2]], call: (_rt, _dev, _x, b) => (nabla as unknown as Record<string, (...a: unknown[]) => unknown>)[op]!(b, 1) }),
  ),
  { op: 'indexSelect', pool: [0, 1, -1], call: (_rt, _dev, x, b: number, f) => x.indexSelect(b, f.i5), syncOnly: true },
  { op: 'gather', pool: [0], call: (_rt, _dev, x, _b, f) => x.gather(0, f.i9), syncOnly: true },
  { op: 'registerHook', pool: badFns.filter((v) => v !== undefined && v !== null), call: (_rt, _dev, _x, b, f) => f.w.registerHook(b) },
  { op: 'sum', pool: ['a', 1, {}, [true]], call: (_rt, _dev, x, b) => x.sum(0, b) },
  { op: 'matmul', pool: ['batch', 'vector'], call: (_rt, _dev, _x, b, f) => (b === 'batch' ? f.m3.matmul(f.m5) : f.v2.matmul(f.m33)) },
];

export interface Outcome {
  ok: boolean;
  why: string;
}

/**
 * Runs one wrong call; what went wrong, if anything. `fine()` checks the runtime still gives right
 * answers afterwards. The tensors it makes are inside a `tidy`, so memory() must not move.
 */
export function tryWrongCall(rt: Runtime, device: string, f: Fixtures, c: Case, bad: unknown, fine: () => boolean): Outcome {
  const before = rt.memory();
  let err: unknown = null;
  let result: unknown;
  try {
    // Outside tidy: an error path must release what it made by itself.
    result = c.call(rt, device, f.x, bad as never, f);
  } catch (e) {
    err = e;
  }
  const show = `${c.op} with ${describe(bad)}`;
  if (err === null) {
    if (result !== null && typeof result === 'object' && 'dispose' in result) (result as Tensor).dispose();
    return { ok: false, why: `${show}: accepted` };
  }
  if (!(err instanceof NablaError)) return { ok: false, why: `${show}: threw ${(err as Error)?.name}: ${(err as Error)?.message}` };
  if (err.op !== c.op && !err.message.startsWith(`${c.op}: `)) return { ok: false, why: `${show}: the NablaError names ${err.op}: ${err.message}` };
  const after = rt.memory();
  if (after.numTensors !== before.numTensors || after.numBytes !== before.numBytes) {
    return { ok: false, why: `${show}: left ${after.numTensors - before.numTensors} tensors / ${after.numBytes - before.numBytes} bytes (${err.message})` };
  }
  if (!fine()) return { ok: false, why: `${show}: the runtime gives wrong answers afterwards` };
  return { ok: true, why: '' };
}

function describe(v: unknown): string {
  try {
    return typeof v === 'symbol' ? v.toString() : typeof v === 'bigint' ? `${v}n` : typeof v === 'function' ? 'a function' : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** fast-check's arbitrary: a case and a value from its pool (`readsSync`: the device's kernels see values at once). */
export function wrongCallOn(readsSync: boolean): fc.Arbitrary<{ c: Case; bad: unknown }> {
  const cases = CASES.filter((c) => readsSync || c.syncOnly !== true);
  return fc.integer({ min: 0, max: cases.length - 1 }).chain((i) => fc.record({ c: fc.constant(cases[i]!), bad: fc.constantFrom(...cases[i]!.pool) }));
}

export const wrongCall = wrongCallOn(true);
