/** `Embedding` (PyTorch's `nn.Embedding`). */
import type { Tensor } from '@nabla/core';
import * as F from '../functional.js';
import * as init from '../init.js';
import { Module } from '../module.js';
import type { FactoryOptions } from '../options.js';
import type { Parameter } from '../parameter.js';
import { emptyParameter } from './linear.js';

export interface EmbeddingOptions extends FactoryOptions {
  /** This index's row starts at zero and receives no gradient. Negative counts from the end. */
  paddingIdx?: number | null;
}

/**
 * A lookup table `[numEmbeddings, embeddingDim]` (N(0, 1) init) indexed by int32 tensors.
 *
 * @example
 * const emb = new Embedding(1000, 64, { paddingIdx: 0 });
 * emb.call(rt.tensor([[5, 9, 0]], { dtype: 'int32' })); // [1, 3, 64]
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, opts: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    let pad = opts.paddingIdx ?? null;
    if (pad !== null) {
      if (!Number.isInteger(pad) || pad >= numEmbeddings || pad < -numEmbeddings) {
        throw this.error(`Padding_idx must be within num_embeddings (got ${pad} for ${numEmbeddings} embeddings)`);
      }
      if (pad < 0) pad += numEmbeddings;
    }
    this.paddingIdx = pad;
    this.weight = emptyParameter([numEmbeddings, embeddingDim], opts);
    this.resetParameters();
  }

  resetParameters(): void {
    init.normal_(this.weight);
    if (this.paddingIdx !== null) {
      const w = this.weight;
      const pad = this.paddingIdx;
      w.rt.noGrad(() => {
        const row = w.select(0, pad);
        row.zero_();
        row.dispose();
      });
    }
  }

  override forward(indices: Tensor): Tensor {
    if (indices.dtype !== 'int32') throw this.error(`expected int32 indices, got ${indices.dtype}`);
    return F.embedding(indices, this.weight, this.paddingIdx);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : ''}`;
  }
}
