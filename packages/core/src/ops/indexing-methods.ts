/**
 * Installs the indexing family as Tensor methods — readable slicing (`index`, `indexPut_`), bool
 * masks (`maskedSelect`, `maskedScatter_`), `scatter`, `flip`, `roll`, `tril`, `triu` — and
 * exports them as functions. Kept apart from methods.ts so the two grow independently.
 */
import { Tensor } from '../tensor/tensor.js';
import type { Operand } from './dispatch.js';
import { maskedScatter_, maskedScatterAsync_, maskedSelect, maskedSelectAsync } from './masked.js';
import { flip, roll, tril, triu } from './reorder.js';
import { scatter, type ScatterOptions } from './scatter.js';
import { index, indexAsync, indexPut_, indexPutAsync_, type IndexItem, type IndexPutOptions } from './slicing.js';

type Index = IndexItem | readonly IndexItem[];

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** PyTorch's `x[...]`: see {@link index}. */
    index(spec: Index): Tensor;
    indexAsync(spec: Index): Promise<Tensor>;
    /** PyTorch's `x[...] = value` (or `index_put_` with accumulate): see {@link indexPut_}. */
    indexPut_(spec: Index, value: Operand, opts?: IndexPutOptions): this;
    indexPutAsync_(spec: Index, value: Operand, opts?: IndexPutOptions): Promise<this>;
    maskedSelect(mask: Tensor): Tensor;
    maskedSelectAsync(mask: Tensor): Promise<Tensor>;
    maskedScatter_(mask: Tensor, source: Tensor): this;
    maskedScatterAsync_(mask: Tensor, source: Tensor): Promise<this>;
    scatter(dim: number, index: Tensor, src: Tensor | number | boolean, opts?: ScatterOptions): Tensor;
    flip(...dims: (number | readonly number[])[]): Tensor;
    roll(shifts: number | readonly number[], dims?: number | readonly number[] | null): Tensor;
    tril(diagonal?: number): Tensor;
    triu(diagonal?: number): Tensor;
  }
}

Object.assign(Tensor.prototype as unknown as Record<string, unknown>, {
  index(this: Tensor, spec: Index) {
    return index(this, spec);
  },
  indexAsync(this: Tensor, spec: Index) {
    return indexAsync(this, spec);
  },
  indexPut_(this: Tensor, spec: Index, value: Operand, opts?: IndexPutOptions) {
    return indexPut_(this, spec, value, opts);
  },
  indexPutAsync_(this: Tensor, spec: Index, value: Operand, opts?: IndexPutOptions) {
    return indexPutAsync_(this, spec, value, opts);
  },
  maskedSelect(this: Tensor, mask: Tensor) {
    return maskedSelect(this, mask);
  },
  maskedSelectAsync(this: Tensor, mask: Tensor) {
    return maskedSelectAsync(this, mask);
  },
  maskedScatter_(this: Tensor, mask: Tensor, source: Tensor) {
    return maskedScatter_(this, mask, source);
  },
  maskedScatterAsync_(this: Tensor, mask: Tensor, source: Tensor) {
    return maskedScatterAsync_(this, mask, source);
  },
  scatter(this: Tensor, dim: number, idx: Tensor, src: Tensor | number | boolean, opts?: ScatterOptions) {
    return scatter(this, dim, idx, src, opts);
  },
  flip(this: Tensor, ...dims: (number | readonly number[])[]) {
    return flip(this, ...dims);
  },
  roll(this: Tensor, shifts: number | readonly number[], dims?: number | readonly number[] | null) {
    return roll(this, shifts, dims);
  },
  tril(this: Tensor, diagonal?: number) {
    return tril(this, diagonal);
  },
  triu(this: Tensor, diagonal?: number) {
    return triu(this, diagonal);
  },
});

export { index, indexAsync, maskedSelect, maskedSelectAsync, scatter, flip, roll, tril, triu };
export { einsum } from './einsum.js';
export type { IndexItem, IndexArray, IndexPutOptions, Slice } from './slicing.js';
export type { ScatterOptions } from './scatter.js';
