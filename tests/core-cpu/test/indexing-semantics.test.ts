/**
 * What indexing shares and what it copies, the in-place rules of indexPut_/maskedScatter_, and the
 * errors of the indexing family (NablaError naming the op and the values; PyTorch's wording where
 * PyTorch has one). Numbers in the in-place cases come from torch 1.13.
 */
import { createRuntime, einsum, NablaError, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
});

const idx = (data: number[] | number[][]): Tensor => rt.tensor(data, { dtype: 'int32' });
const version = (t: Tensor): number => t._ref.version;

function expectError(fn: () => unknown, op: string, message: string | RegExp): void {
  let err: unknown = null;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${op} to throw`).toBeInstanceOf(NablaError);
  expect((err as NablaError).message).toContain(op);
  if (typeof message === 'string') expect((err as NablaError).message).toContain(message);
  else expect((err as NablaError).message).toMatch(message);
}

describe('views and copies', () => {
  it('basic indexing returns a view: writes either way are seen by both, and the version counter is shared', () => {
    const x = rt.zeros([3, 4]);
    const row = x.index([0]);
    const cols = x.index([':', '1::2']);
    expect(row._base).toBe(x);
    expect(cols.stride()).toEqual([4, 2]);
    const v0 = version(x);
    x.indexPut_([[1]], 1); // x[[1]] = 1
    expect([version(x), version(row)]).toEqual([v0 + 1, v0 + 1]);
    row.fill_(3);
    cols.add_(10);
    expect(x.tolist()).toEqual([
      [3, 13, 3, 13],
      [1, 11, 1, 11],
      [0, 10, 0, 10],
    ]);
    expect(x.index(['...'])._base).toBe(x);
    expect(x.index([null, '...', -1]).shape).toEqual([1, 3]);
  });

  it('advanced indexing returns a copy', () => {
    const x = rt.zeros([3, 4]);
    const a = x.index([[0, 1]]);
    const m = x.index([x.eq(0)]);
    expect(a._base).toBeNull();
    a.fill_(9);
    m.fill_(9);
    expect(x.sum().item()).toBe(0);
  });

  it('a saved view sees writes through its base (the version check fires)', () => {
    const z = rt.ones([2, 3], { requiresGrad: true }).mul(1);
    const s = z.index([0]);
    const t = s.mul(s);
    z.indexPut_([[0]], 0);
    expect(() => t.sum().backward()).toThrow(/modified by an inplace operation/);
  });

  it('indexPut_ through a view rewrites the base history as CopySlices (torch 1.13 numbers)', () => {
    const x = rt.arange(12, { dtype: 'float64' }).reshape(3, 4).detach().requiresGrad_();
    const v = rt.tensor([10, 20], { dtype: 'float64', requiresGrad: true });
    const y = x.mul(1);
    y.indexPut_(['1:', idx([0, 2])], v.unsqueeze(0).expand(2, 2).mul(2));
    expect(y.gradFn!.name()).toBe('CopySlices');
    expect(y.tolist()).toEqual([
      [0, 1, 2, 3],
      [20, 5, 40, 7],
      [20, 9, 40, 11],
    ]);
    y.mul(rt.arange(12, { dtype: 'float64' }).reshape(3, 4)).sum().backward();
    expect(x.grad!.tolist()).toEqual([
      [0, 1, 2, 3],
      [0, 5, 0, 7],
      [0, 9, 0, 11],
    ]);
    expect(v.grad!.tolist()).toEqual([24, 32]);
  });

  it('writes into a leaf that requires grad are refused, as in PyTorch; under noGrad they bump the version', () => {
    const x = rt.zeros([3, 4], { requiresGrad: true });
    expectError(() => x.indexPut_([[0]], 1), 'indexPut_', 'a leaf Variable that requires grad is being used in an in-place operation.');
    expectError(() => x.indexPut_([0], 1), 'copy_', 'a view of a leaf Variable that requires grad is being used in an in-place operation.');
    expectError(() => x.maskedScatter_(x.gt(0), rt.ones([12])), 'maskedScatter_', 'a leaf Variable that requires grad');
    const v0 = version(x);
    rt.noGrad(() => x.indexPut_([x.ge(0)], 2));
    expect(version(x)).toBe(v0 + 1);
    expect(x.sum().item()).toBe(24);
    expect(x.gradFn).toBeNull();
  });

  it('indexPut_ with accumulate adds duplicates; without, basic entries broadcast the value', () => {
    const x = rt.zeros([3, 2]);
    x.indexPut_([[0, 0, 2]], rt.tensor([1, 2]), { accumulate: true });
    x.indexPut_([1], 5);
    expect(x.tolist()).toEqual([
      [2, 4],
      [5, 5],
      [1, 2],
    ]);
  });

  it('nested arrays of booleans are masks and slice objects work like strings', () => {
    const x = rt.arange(6).reshape(2, 3);
    expect(x.index([[true, false]]).tolist()).toEqual([[0, 1, 2]]);
    expect(x.index([':', { start: -2 }]).tolist()).toEqual([
      [1, 2],
      [4, 5],
    ]);
    expect(x.index([':', { step: 2 }]).tolist()).toEqual([
      [0, 2],
      [3, 5],
    ]);
  });
});

describe('scatter with reduce', () => {
  it("reduce 'add' adds into the indexed positions; like PyTorch it has no derivative", () => {
    const x = rt.tensor([[0, 1, 2], [3, 4, 5]], { dtype: 'float64', requiresGrad: true });
    const y = x.scatter(0, idx([[0, 1]]), 1.5, { reduce: 'add' });
    expect(y.tolist()).toEqual([
      [1.5, 1, 2],
      [3, 5.5, 5],
    ]);
    expect((x.scatter(1, idx([[0, 0]]), rt.tensor([[1, 2]], { dtype: 'float64' }), { reduce: 'add' }).tolist() as number[][])[0]).toEqual([3, 1, 2]);
    expect(y.gradFn!.name()).toBe('NotImplemented');
    expectError(() => y.sum().backward(), 'scatter', 'derivative for aten::scatter is not implemented');
    expectError(() => x.scatter(0, idx([[0]]), 1, { reduce: 'max' as 'add' }), 'scatter', 'reduce argument must be either add or multiply');
    expectError(() => x.scatter(0, idx([[0]]), 1, { reduce: 'multiply' }), 'scatter', "reduce='multiply' is not supported yet");
  });
});

describe('memory', () => {
  it('indexing, indexPut_, maskedSelect and einsum in a loop leave memory where it was (no grad and, in a tidy, with grad)', () => {
    const x = rt.randn([40, 40]);
    const w = rt.randn([40, 40], { requiresGrad: true });
    const before = rt.memory();
    for (let i = 0; i < 5; i++) {
      // In a tidy: the masks made here (x.gt(2), ...) are the test's temporaries, counted until freed.
      rt.tidy(() => rt.noGrad(() => {
        x.indexPut_([':', [0, 3]], 1);
        x.indexPut_([x.gt(2)], 0);
        x.index(['1:', [1, 2]]).dispose();
        x.maskedSelect(x.gt(0)).dispose();
        einsum('ij,jk->ik', x, x).dispose();
      }));
      rt.tidy(() => {
        const y = w.mul(1);
        y.indexPut_([[0, 1]], 0);
        y.index([':', [2, 5]]).sum().add(einsum('ii', y)).add(y.maskedSelect(y.gt(0)).sum()).add(y.flip(0).tril().sum()).backward();
      });
    }
    const after = rt.memory();
    expect(after.numTensors).toBe(before.numTensors + 1); // w.grad
    expect(after.numBytes).toBe(before.numBytes + 40 * 40 * 4);
  });
});

describe('errors', () => {
  const x = () => rt.zeros([3, 4]);

  it('index: out-of-range integers and index tensors, too many indices, bad strings and steps, masks, dtypes', () => {
    expectError(() => x().index([0, 5]), 'index', 'index 5 is out of bounds for dimension 1 with size 4');
    expectError(() => x().index([':', idx([7])]), 'index', 'index 7 is out of bounds for dimension 0 with size 4');
    expectError(() => x().index([idx([-4])]), 'index', 'index -4 is out of bounds for dimension 0 with size 3');
    expectError(() => x().index([0, 0, 0]), 'index', 'too many indices for tensor of dimension 2');
    expectError(() => x().index(['1:x']), 'index', "invalid index '1:x' at position 0");
    expectError(() => x().index(['::0']), 'index', 'slice step cannot be zero');
    expectError(() => x().index(['::-1']), 'index', 'step must be greater than zero');
    expectError(() => x().index(['...', '...']), 'index', "an index can only have a single ellipsis ('...')");
    expectError(() => x().index([rt.tensor([true, false])]), 'index', 'The shape of the mask [2] at index 0 does not match the shape of the indexed tensor [3, 4] at index 0');
    expectError(() => x().index([rt.tensor([0.5])]), 'index', 'tensors used as indices must be int32 or bool tensors (got float32');
    expectError(() => x().index([idx([0, 1]), idx([0, 1, 2])]), 'index', 'shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]');
    expectError(() => x().index([0.5]), 'index', 'index 0 must be an integer, got 0.5');
  });

  it('indexPut_: values that do not broadcast, dtype mismatches', () => {
    expectError(() => x().indexPut_([idx([0])], rt.ones([3, 3])), 'indexPut_', 'shape mismatch: value tensor of shape [3, 3] cannot be broadcast to indexing result of shape [1, 4]');
    expectError(() => x().indexPut_([0], rt.ones([3])), 'indexPut_', 'shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [4]');
    expectError(() => x().indexPut_([idx([0])], rt.ones([4], { dtype: 'float64' })), 'indexPut_', 'Index put requires the source and destination dtypes match, got float32 for the destination and float64 for the source.');
  });

  it('maskedSelect and maskedScatter_', () => {
    expectError(() => x().maskedSelect(rt.ones([3, 4])), 'maskedSelect', 'expected BoolTensor for mask, got float32');
    expectError(() => x().maskedSelect(rt.ones([5], { dtype: 'bool' })), 'maskedSelect', 'The size of tensor a (4) must match the size of tensor b (5)');
    expectError(() => x().maskedScatter_(rt.ones([3, 4], { dtype: 'bool' }), rt.ones([3])), 'maskedScatter_', 'Number of elements of source < number of ones in mask (3 < 12)');
    expectError(() => x().maskedScatter_(rt.ones([2, 1, 4], { dtype: 'bool' }), rt.ones([24])), 'maskedScatter_', 'mask of shape [2, 1, 4] cannot be broadcast to the shape [3, 4]');
    expectError(() => x().maskedScatter_(rt.ones([4], { dtype: 'bool' }), rt.ones([12], { dtype: 'float64' })), 'maskedScatter_', 'expected self and source to have same dtypes but got float32 and float64');
  });

  it('scatter and scatterAdd', () => {
    expectError(() => x().scatter(0, idx([[5]]), 1), 'scatter', 'index 5 is out of range for dimension 0 with size 3');
    expectError(() => x().scatter(2, idx([[0]]), 1), 'scatter', 'Dimension out of range');
    expectError(() => x().scatter(0, idx([0]), 1), 'scatter', 'Index tensor must have the same number of dimensions as self tensor');
    expectError(() => x().scatter(0, rt.zeros([1, 1]), 1), 'scatter', 'Expected dtype int32 for index, got float32');
    expectError(() => x().scatter(0, idx([[0, 0], [0, 0]]), rt.ones([1, 1])), 'scatter', 'Expected index [2, 2] to be smaller than self [3, 4] apart from dimension 0 and to be smaller size than src [1, 1]');
    expectError(() => x().scatter(0, idx([[0]]), rt.ones([1, 1], { dtype: 'float64' })), 'scatter', 'Expected self.dtype to be equal to src.dtype');
  });

  it('flip, roll, tril, triu', () => {
    expectError(() => x().flip(0, 0), 'flip', 'dim 0 appears multiple times in the list of dims');
    expectError(() => x().flip(2), 'flip', 'Dimension out of range');
    expectError(() => x().roll([1, 2], 0), 'roll', 'shifts and dimensions must align. shifts: 2, dims:1');
    expectError(() => x().roll(1, 3), 'roll', 'Dimension out of range');
    expectError(() => rt.zeros([3]).tril(), 'tril', 'input tensor must have at least 2 dimensions (got shape [3])');
    expectError(() => x().triu(0.5), 'triu', 'diagonal must be an integer, got 0.5');
  });

  it("einsum: PyTorch's messages", () => {
    const a = rt.zeros([2, 3]);
    expectError(() => einsum('ij,jk->ik', a), 'einsum', 'einsum(): fewer operands were provided than specified in the equation');
    expectError(() => einsum('ij', a, a), 'einsum', 'einsum(): more operands were provided than specified in the equation');
    expectError(() => einsum('ij->ik', a), 'einsum', 'einsum(): output subscript k does not appear in the equation for any input operand');
    expectError(() => einsum('ijk->ij', a), 'einsum', 'einsum(): the number of subscripts in the equation (3) does not match the number of dimensions (2) for operand 0 and no ellipsis was given');
    expectError(() => einsum('i1->i', a), 'einsum', 'einsum(): invalid subscript given at index 1 in the equation string, subscripts must be in [a-zA-Z]');
    expectError(() => einsum('ij->ii', a), 'einsum', 'einsum(): output subscript i appears more than once in the output');
    expectError(() => einsum('i.j->', a), 'einsum', "einsum(): found '.' for operand 0 that is not part of any ellipsis");
    expectError(() => einsum('ij,jk->ik', a, a), 'einsum', 'einsum(): subscript j has size 2 for operand 1 which does not broadcast with previously seen size 3');
    expectError(() => einsum('ii->i', a), 'einsum', "einsum(): subscript i is repeated for operand 0 but the sizes don't match, 3 != 2");
    expectError(
      () => einsum('...i,...i->...', a, rt.zeros([4, 3])),
      'einsum',
      'einsum(): dimension 0 covered by ellipsis in operand 1has size 4 which does not broadcast with previously seen ellipsis with size 2 for the respective dimension',
    );
  });

  it('an error leaves nothing allocated', () => {
    const big = rt.zeros([64, 64]);
    const all = rt.ones([64, 64], { dtype: 'bool' });
    const rows = rt.ones([3, 64]);
    // The test's own index tensors exist before counting: memory() counts small CPU tensors too.
    const i01 = idx([0, 1]);
    const i064 = idx([0, 64]);
    const before = rt.memory().numTensors;
    const cases: [string, () => unknown][] = [
      ['indexPut_ value shape', () => big.indexPut_([i01], rows)],
      ['index out of range', () => big.index([':', i064])],
      ['index shapes', () => big.index([[0, 1], [0, 1, 2]])],
      ['maskedScatter_ source', () => big.maskedScatter_(all, rows)],
    ];
    for (const [name, fn] of cases) {
      expect(fn, name).toThrow(NablaError);
      expect(rt.memory().numTensors, name).toBe(before);
    }
  });
});
