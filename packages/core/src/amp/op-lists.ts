/**
 * Which ops autocast touches and how: PyTorch 1.13's autocast op lists, by Nabla's op names
 * (core's and the plugins'; a plugin op joins by calling `amp.castInputs(name, ...)` at its entry).
 *
 * - `lower`: run in the region's low-precision dtype (float16 / bfloat16); matrix products and
 *   convolutions, where half precision is fast and accurate enough.
 * - `fp32`: run in float32; ops whose range or accumulation suffers in 16 bits.
 * - `promote`: ops with several floating inputs run in the widest of them.
 *
 * Ops on no list run in whatever dtype their inputs have (elementwise ops then promote as usual).
 * float64 tensors are never cast (as PyTorch: autocast only touches float32 and 16-bit floats).
 *
 * The lists differ per device type, as PyTorch's do: `'cpu'` follows PyTorch 1.13's CPU
 * (bfloat16) lists, where softmax, layer norm and most elementwise ops are not listed; GPU devices
 * (`'webgpu'`, `'webgl'`, and any other) follow its CUDA lists, where softmax, logSoftmax,
 * exp/log/pow, sums, norms and losses are float32.
 */

/** How autocast treats an op's floating-point tensor inputs. */
export type CastPolicy = 'lower' | 'fp32' | 'promote';

/** Op name → policy. Names are Nabla's (camelCase) spelling of PyTorch's. */
export type OpPolicyTable = Readonly<Record<string, CastPolicy>>;

function table(lists: { lower: readonly string[]; fp32: readonly string[]; promote: readonly string[] }): OpPolicyTable {
  const t: Record<string, CastPolicy> = Object.create(null) as Record<string, CastPolicy>;
  for (const k of ['lower', 'fp32', 'promote'] as const) for (const op of lists[k]) t[op] = k;
  return Object.freeze(t);
}

/** PyTorch 1.13, aten/src/ATen/autocast_mode.cpp, the CPU (bfloat16) registrations. */
export const CPU_OP_POLICY: OpPolicyTable = table({
  lower: [
    'conv1d', 'conv2d', 'conv3d', 'bmm', 'mm', 'baddbmm', 'addmm', 'addbmm', 'linear', 'matmul',
    'convTranspose1d', 'convTranspose2d', 'convTranspose3d', 'prelu',
  ],
  fp32: [
    'avgPool3d', 'binaryCrossEntropy', 'gridSampler', 'polar', 'prod', 'quantile', 'nanquantile', 'stft', 'cdist', 'trace',
    'cholesky', 'choleskyInverse', 'choleskySolve', 'inverse', 'luSolve', 'pinverse', 'maxPool3d', 'maxUnpool2d', 'maxUnpool3d',
    'adaptiveAvgPool3d', 'reflectionPad1d', 'reflectionPad2d', 'replicationPad1d', 'replicationPad2d', 'replicationPad3d',
    'mseLoss', 'ctcLoss', 'klDiv', 'multilabelMarginLoss', 'qr', 'svd', 'triangularSolve', 'fractionalMaxPool2d',
    'fractionalMaxPool3d', 'adaptiveMaxPool3d',
    // Losses that PyTorch 1.13's CPU autocast returns in float32 (checked by the fixture generator).
    'nllLoss', 'crossEntropy', 'l1Loss', 'smoothL1Loss', 'huberLoss', 'binaryCrossEntropyWithLogits',
    'cosineEmbeddingLoss', 'hingeEmbeddingLoss', 'poissonNllLoss', 'marginRankingLoss', 'softMarginLoss', 'tripletMarginLoss',
    'multiMarginLoss',
  ],
  promote: ['stack', 'cat', 'indexCopy'],
});

/** PyTorch 1.13, aten/src/ATen/autocast_mode.cpp, the CUDA (float16) registrations. */
export const GPU_OP_POLICY: OpPolicyTable = table({
  lower: [
    'conv1d', 'conv2d', 'conv3d', 'convTbc', 'convTranspose1d', 'convTranspose2d', 'convTranspose3d', 'convolution', 'prelu',
    'addmm', 'addmv', 'addr', 'matmul', 'einsum', 'mm', 'mv', 'linear', 'addbmm', 'baddbmm', 'bmm', 'chainMatmul', 'multiDot',
    'lstmCell', 'gruCell', 'rnnTanhCell', 'rnnReluCell',
  ],
  fp32: [
    'acos', 'asin', 'cosh', 'erfinv', 'exp', 'expm1', 'log', 'log10', 'log2', 'log1p', 'reciprocal', 'rsqrt', 'sinh', 'tan',
    'pow', 'softplus', 'layerNorm', 'groupNorm', 'norm', 'cosineSimilarity', 'poissonNllLoss', 'cosineEmbeddingLoss',
    'nllLoss', 'hingeEmbeddingLoss', 'klDiv', 'l1Loss', 'smoothL1Loss', 'huberLoss', 'mseLoss', 'marginRankingLoss',
    'multilabelMarginLoss', 'softMarginLoss', 'tripletMarginLoss', 'multiMarginLoss', 'binaryCrossEntropyWithLogits',
    'dist', 'pdist', 'cdist', 'renorm', 'logsumexp',
    // PyTorch's "fp32_set_opt_dtype" ops: run with dtype=float32 when given 16-bit input.
    'prod', 'softmax', 'logSoftmax', 'cumprod', 'cumsum', 'sum',
    // Composed in Nabla from the ops above (PyTorch runs log_softmax + nll_loss, both float32).
    'crossEntropy',
    // Not on PyTorch's list: cuDNN's batch norm computes in float32 whatever its input. Nabla's is
    // composed from ops, so it is listed to keep its statistics out of half precision.
    'batchNorm',
  ],
  promote: ['addcdiv', 'addcmul', 'atan2', 'bilinear', 'cross', 'dot', 'gridSampler', 'indexPut', 'scatterAdd', 'tensordot', 'cat', 'stack'],
});

/**
 * The policy table of a device type (`'cpu'`, `'webgpu'`, ...).
 *
 * @example
 * nabla.amp.opPolicyTable('webgpu').softmax; // 'fp32'
 */
export function opPolicyTable(deviceType: string): OpPolicyTable {
  return deviceType === 'cpu' ? CPU_OP_POLICY : GPU_OP_POLICY;
}
