/**
 * Every op of the indexing family passes gradcheck and gradgradcheck in float64 on the CPU:
 * basic indexing (views), advanced indexing with index tensors and masks, indexPut_ (through a
 * clone and through a view), maskedSelect, maskedScatter_, scatter, scatterAdd, flip, roll,
 * tril, triu and einsum (diagonals, ellipsis, implicit output, three operands).
 */
import { createRuntime, einsum, gradcheck, gradgradcheck, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ plugins: [cpuBackend()] });
  rt.manualSeed(11);
});

const randn = (...shape: number[]): Tensor => rt.randn(shape, { dtype: 'float64', requiresGrad: true });
const idx = (data: number[] | number[][]): Tensor => rt.tensor(data, { dtype: 'int32' });
const mask = (data: boolean[] | boolean[][]): Tensor => rt.tensor(data, { dtype: 'bool' });

type Case = [string, (...xs: Tensor[]) => Tensor, () => Tensor[]];

const CASES: Case[] = [
  ['index: slices with steps, negative bounds, new axis, ellipsis, int', (x) => x.index(['-2:', null, '...', '::2', -1]), () => [randn(3, 4, 5)]],
  ['index: adjacent index tensors after a slice', (x) => x.index([':', idx([2, 0, 2]), idx([[1], [4]])]), () => [randn(2, 3, 5)]],
  ['index: separated index tensors (result dims first)', (x) => x.index([idx([0, 1, 1]), '1:3', idx([-1, 0, 2])]), () => [randn(2, 4, 3)]],
  ['index: bool mask over two dims', (x) => x.index([mask([[true, false, true], [false, false, true]])]), () => [randn(2, 3, 2)]],
  ['indexPut_ of a clone, overwrite with a tensor', (x, v) => x.clone().indexPut_([idx([2, 0])], v), () => [randn(3, 4), randn(2, 4)]],
  ['indexPut_ of a clone, accumulate duplicates, broadcast value', (x, v) => x.clone().indexPut_([':', idx([1, 1, 3])], v, { accumulate: true }), () => [randn(3, 4), randn(3)]],
  ['indexPut_ through a view (CopySlices), mask', (x, v) => {
    const y = x.mul(1);
    y.index(['1:']).indexPut_([':', mask([true, false, true, true])], v);
    return y;
  }, () => [randn(3, 4), randn(1)]],
  ['indexPut_ basic window', (x, v) => x.clone().indexPut_(['::2', '1:3'], v), () => [randn(3, 4), randn(2, 2)]],
  ['maskedSelect with a broadcast mask', (x) => x.maskedSelect(mask([true, false, true, true])), () => [randn(3, 4)]],
  ['maskedScatter_', (x, s) => x.clone().maskedScatter_(mask([[true, false], [true, true]]), s), () => [randn(2, 2), randn(5)]],
  ['scatter from a tensor larger than the index', (x, s) => x.scatter(1, idx([[2, 0], [1, 3]]), s), () => [randn(2, 4), randn(2, 3)]],
  ['scatterAdd from a source larger than the index', (x, s) => x.scatterAdd(0, idx([[1], [1]]), s), () => [randn(2, 4), randn(3, 2)]],
  ['scatter a number', (x) => x.scatter(0, idx([[1, 0, 1]]), 1.5), () => [randn(2, 3)]],
  ['scatterAdd with duplicates', (x, s) => x.scatterAdd(1, idx([[2, 2], [0, 3]]), s), () => [randn(2, 4), randn(2, 2)]],
  ['flip', (x) => x.flip(0, -1), () => [randn(3, 2, 4)]],
  ['roll flattened and along dims', (x) => x.roll(5).add(x.roll([1, -3], [0, 2])), () => [randn(2, 3, 4)]],
  ['tril and triu with diagonals', (x) => x.tril(-1).add(x.triu(2)), () => [randn(2, 3, 5)]],
  ['einsum matmul, batched, outer', (a, b) => einsum('ij,jk->ik', a, b).sum(1).add(einsum('i,j', a.sum(1), b.sum(0)).sum(1)), () => [randn(2, 3), randn(3, 4)]],
  ['einsum diagonal, trace, repeated', (a) => einsum('ii->i', a.index([0])).add(einsum('ii', a.index([1]))).add(einsum('jii->j', a).sum()), () => [randn(2, 3, 3)]],
  ['einsum ellipsis with broadcasting, implicit', (a, b) => einsum('...i,...i->...', a, b).add(einsum('...ij->...ji', a).sum()), () => [randn(2, 1, 3), randn(4, 3)]],
  ['einsum three operands', (a, b, c) => einsum('bn,anm,bm->ba', a, b, c), () => [randn(2, 3), randn(2, 3, 4), randn(2, 4)]],
];

describe('gradients of the indexing family (float64, cpu)', () => {
  it.each(CASES)('%s: gradcheck', (_name, fn, make) => {
    expect(gradcheck(fn, make())).toBe(true);
  });
  it.each(CASES)('%s: gradgradcheck', (_name, fn, make) => {
    expect(gradgradcheck(fn, make())).toBe(true);
  });
});
