/**
 * The layers' computations as functions (PyTorch's `torch.nn.functional`), composed from core ops
 * so they run and differentiate on every backend. Each frees its own temporaries (see
 * `lifetime.ts`): only the result stays.
 *
 * @example
 * const y = nn.functional.conv2d(images, weight, bias, { padding: 1 }); // [N, C, H, W] → [N, O, H, W]
 */
import { amp, cat, NablaError, Tensor, where } from '@nabla/core';
import { pin, scoped, untracked } from './lifetime.js';

export { logSigmoid } from './losses.js';
export { batchNorm, type BatchNormFunctionalOptions } from './functional-batchnorm.js';

function checkTensor(x: unknown, what: string, op: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new NablaError(`${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`, { op });
}

/**
 * `x @ weightᵀ + bias`, weight `[out, in]`.
 *
 * @example
 * nn.functional.linear(x, w, b); // [N, in] → [N, out]
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  checkTensor(x, 'input', 'linear');
  [x, weight, bias] = amp.castInputs('linear', [x, weight, bias] as const);
  return scoped(x.rt, () => {
    // As PyTorch 1.13: a 2-D input with a bias is one fused addmm (AddmmBackward0); a contiguous
    // 3-D one goes through it on its rows (a view back: ViewBackward0); others are matmul + add.
    if (bias && x.ndim === 2) return bias.addmm(x, weight.t());
    if (bias && x.ndim === 3 && x.isContiguous()) {
      const rows = x.view([-1, x.shape[x.ndim - 1]!]);
      return bias.addmm(rows, weight.t()).view([...x.shape.slice(0, -1), weight.shape[0]!]);
    }
    const y = x.matmul(weight.t());
    return bias ? y.add(bias) : y;
  });
}

/**
 * Zeroes each element with probability `p` (from the tensor's runtime RNG) and scales the rest by
 * 1/(1-p); the identity when `training` is false.
 *
 * @example
 * nn.functional.dropout(h, 0.1, model.training);
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  checkTensor(x, 'input', 'dropout');
  if (!(p >= 0 && p <= 1)) throw new NablaError(`dropout probability has to be between 0 and 1, but got ${p}`, { op: 'dropout' });
  if (!training || p === 0) return x;
  if (p === 1) return x.mul(0);
  return scoped(x.rt, () => {
    const keep = x.rt.rand(x.shape, { dtype: x.dtype, device: x.device }).ge(p);
    // mask: 1/(1-p) where kept, else 0 (a bool tensor cast: no graph through the mask).
    const mask = keep.to(x.dtype).mul_(1 / (1 - p));
    return x.mul(mask);
  });
}

/**
 * Normalizes over the trailing `normalizedShape` dims (biased variance), then scales and shifts.
 *
 * @example
 * nn.functional.layerNorm(x, [64], gamma, beta); // x: [N, T, 64]
 */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  checkTensor(x, 'input', 'layerNorm');
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || x.ndim < k || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new NablaError(
      `Given normalized_shape=[${normalizedShape.join(', ')}], expected input with shape [*, ${normalizedShape.join(', ')}], but got input of size [${x.shape.join(', ')}]`,
      { op: 'layerNorm' },
    );
  }
  [x, weight, bias] = amp.castInputs('layerNorm', [x, weight, bias] as const);
  const dims = normalizedShape.map((_, i) => x.ndim - k + i);
  return scoped(x.rt, () => {
    const centered = x.sub(x.mean(dims, true));
    const inv = centered.square().mean(dims, true).add(eps).rsqrt();
    let y = centered.mul(inv);
    if (weight) y = y.mul(weight);
    if (bias) y = y.add(bias);
    return y;
  });
}

/**
 * Rows of `weight` picked by the int32 `indices`; the `paddingIdx` row gets no gradient.
 *
 * @example
 * nn.functional.embedding(rt.tensor([[1, 2]], { dtype: 'int32' }), table); // [1, 2, dim]
 */
export function embedding(indices: Tensor, weight: Tensor, paddingIdx?: number | null): Tensor {
  checkTensor(indices, 'indices', 'embedding');
  if (indices.dtype !== 'int32') {
    throw new NablaError(`Expected tensor for argument #1 'indices' to have scalar type int32; but got ${indices.dtype} instead`, { op: 'embedding' });
  }
  return scoped(weight.rt, () => {
    const flat = indices.reshape([-1]);
    let rows = weight.indexSelect(0, flat);
    if (paddingIdx !== null && paddingIdx !== undefined && weight.requiresGrad) {
      // The padding row's value, but no gradient into it (PyTorch's padding_idx).
      const frozen = weight.detach().indexSelect(0, flat);
      rows = where(flat.eq(paddingIdx).unsqueeze(1), frozen, rows);
    }
    return rows.reshape([...indices.shape, weight.shape[1]!]);
  });
}

export type Pair = number | readonly [number, number];

/** `v` as `[h, w]` of non-negative integers. */
export function pair(v: Pair, name: string, op: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((n) => Number.isInteger(n) && n >= 0)) throw new NablaError(`${name} must be non-negative integers, got ${JSON.stringify(v)}`, { op });
  return p;
}

interface Window {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}

/** Output size of a sliding window along one axis. */
function outSize(n: number, k: number, s: number, p: number, d: number): number {
  return Math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1;
}

const unfoldCache = new WeakMap<object, Map<string, Tensor>>();

/**
 * The flat index (into `H·W + 1` positions, the last one being the padding value) of every
 * window element: `[kh·kw · OH·OW]`, kernel position major. Cached per runtime and device.
 */
function unfoldIndex(x: Tensor, h: number, w: number, win: Window): { index: Tensor; oh: number; ow: number } {
  const [kh, kw] = win.kernel;
  const [sh, sw] = win.stride;
  const [ph, pw] = win.padding;
  const [dh, dw] = win.dilation;
  const oh = outSize(h, kh, sh, ph, dh);
  const ow = outSize(w, kw, sw, pw, dw);
  if (oh <= 0 || ow <= 0) {
    throw new NablaError(
      `Given input size [${h}, ${w}] with kernel [${kh}, ${kw}], padding [${ph}, ${pw}], dilation [${dh}, ${dw}]: calculated output size [${oh}, ${ow}] is too small`,
      { op: 'unfold' },
    );
  }
  let byKey = unfoldCache.get(x.rt);
  if (!byKey) unfoldCache.set(x.rt, (byKey = new Map()));
  const key = `${x.device}|${h},${w}|${kh},${kw}|${sh},${sw}|${ph},${pw}|${dh},${dw}`;
  let index = byKey.get(key);
  if (!index || index.isDisposed) {
    const data = new Int32Array(kh * kw * oh * ow);
    let k = 0;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let r = 0; r < oh; r++) {
          const y = r * sh - ph + i * dh;
          for (let c = 0; c < ow; c++) {
            const xx = c * sw - pw + j * dw;
            data[k++] = y >= 0 && y < h && xx >= 0 && xx < w ? y * w + xx : h * w;
          }
        }
      }
    }
    // A cache entry outlives the step (and the tidy) that happened to create it.
    index = untracked(x.rt, () => x.rt.tensor(data, { dtype: 'int32', device: x.device }));
    pin(index);
    byKey.set(key, index);
  }
  return { index, oh, ow };
}

/**
 * `[N, C, H, W]` → `[N, C, kh·kw, OH·OW]`: every window element (kernel position major), with
 * out-of-bounds positions filled with `padValue`.
 */
function unfold(x: Tensor, win: Window, padValue: number, op: string): { cols: Tensor; oh: number; ow: number } {
  if (x.ndim !== 4) throw new NablaError(`expected a 4-D input [N, C, H, W], got shape [${x.shape.join(', ')}]`, { op });
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const { index, oh, ow } = unfoldIndex(x, h, w, win);
  const pad = x.rt.full([n, c, 1], padValue, { dtype: x.dtype, device: x.device });
  const withPad = cat([x.reshape([n, c, h * w]), pad], 2);
  const cols = withPad.indexSelect(2, index).reshape([n, c, win.kernel[0] * win.kernel[1], oh * ow]);
  return { cols, oh, ow };
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

/**
 * 2-D convolution (cross-correlation, as PyTorch) by im2col: one indexSelect and one matmul.
 *
 * @example
 * nn.functional.conv2d(x, w, b, { stride: 2, padding: 1 }); // w: [out, in, kh, kw]
 */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  checkTensor(x, 'input', op);
  if (weight.ndim !== 4) throw new NablaError(`weight must be [out, in, kh, kw], got [${weight.shape.join(', ')}]`, { op });
  const [o, cin, kh, kw] = weight.shape as [number, number, number, number];
  if (x.ndim !== 4 || x.shape[1] !== cin) {
    throw new NablaError(
      `expected input [N, ${cin}, H, W] (weight of size [${weight.shape.join(', ')}] expects ${cin} channels), but got input of size [${x.shape.join(', ')}]`,
      { op },
    );
  }
  const win: Window = {
    kernel: [kh, kw],
    stride: pair(opts.stride ?? 1, 'stride', op),
    padding: pair(opts.padding ?? 0, 'padding', op),
    dilation: pair(opts.dilation ?? 1, 'dilation', op),
  };
  if (win.stride[0] === 0 || win.stride[1] === 0) throw new NablaError('stride must be positive', { op });
  [x, weight, bias] = amp.castInputs(op, [x, weight, bias] as const);
  const n = x.shape[0]!;
  return scoped(x.rt, () => {
    const { cols, oh, ow } = unfold(x, win, 0, op);
    let y = weight.reshape([o, cin * kh * kw]).matmul(cols.reshape([n, cin * kh * kw, oh * ow])); // [N, O, L]
    if (bias) y = y.add(bias.reshape([o, 1]));
    return y.reshape([n, o, oh, ow]);
  });
}

export interface MaxPool2dOptions {
  stride?: Pair | null;
  padding?: Pair;
  dilation?: Pair;
}

/**
 * 2-D max pooling over `[N, C, H, W]` or `[C, H, W]`; the gradient goes to the first maximum of
 * each window (as PyTorch). The stride defaults to the kernel size.
 *
 * @example
 * nn.functional.maxPool2d(x, 2); // [N, C, 28, 28] → [N, C, 14, 14]
 */
export function maxPool2d(x: Tensor, kernelSize: Pair, opts: MaxPool2dOptions = {}): Tensor {
  const op = 'maxPool2d';
  checkTensor(x, 'input', op);
  const kernel = pair(kernelSize, 'kernel_size', op);
  const win: Window = {
    kernel,
    stride: pair(opts.stride ?? kernel, 'stride', op),
    padding: pair(opts.padding ?? 0, 'padding', op),
    dilation: pair(opts.dilation ?? 1, 'dilation', op),
  };
  if (win.stride[0] === 0 || win.stride[1] === 0) throw new NablaError('stride must be positive', { op });
  if (win.padding[0] * 2 > kernel[0] || win.padding[1] * 2 > kernel[1]) {
    throw new NablaError(`pad should be at most half of effective kernel size, but got pad=[${win.padding.join(', ')}], kernel_size=[${kernel.join(', ')}]`, { op });
  }
  if (x.ndim !== 3 && x.ndim !== 4) throw new NablaError(`expected a 3-D or 4-D input, got shape [${x.shape.join(', ')}]`, { op });
  const three = x.ndim === 3;
  return scoped(x.rt, () => {
    const x4 = three ? x.unsqueeze(0) : x;
    const [n, c] = x4.shape as [number, number];
    const { cols, oh, ow } = unfold(x4, win, -Infinity, op);
    const y = cols.max(2).values.reshape([n, c, oh, ow]);
    return three ? y.squeeze(0) : y;
  });
}

/**
 * Flattens dims `startDim..endDim` into one.
 *
 * @example
 * nn.functional.flatten(images); // [N, C, H, W] → [N, C·H·W]
 */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  return x.flatten(startDim, endDim);
}
