/**
 * Loss functions, as PyTorch's `torch.nn.functional` losses. Class targets are int32 tensors.
 * Everything is composed from core ops in numerically stable forms (log-softmax, log-sigmoid
 * without exp overflow), so the losses run and differentiate on every backend; each frees its own
 * temporaries (only the loss stays).
 *
 * @example
 * const loss = nn.crossEntropy(logits, labels, { labelSmoothing: 0.1 });
 * loss.backward();
 */
import { amp, NablaError, Tensor, where } from '@nabla/core';
import { scoped } from './lifetime.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface ReductionOptions {
  /** 'mean' (default), 'sum' or 'none' (one loss per element / sample). */
  reduction?: Reduction | null;
}

export interface NllLossOptions extends ReductionOptions {
  /** A manual rescaling weight per class, `[C]`. */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing (default -100). */
  ignoreIndex?: number | null;
}

export interface CrossEntropyOptions extends NllLossOptions {
  /** Mixes the target with the uniform distribution: (1 - ε)·target + ε/C (default 0). */
  labelSmoothing?: number | null;
}

export interface BceWithLogitsOptions extends ReductionOptions {
  /** Rescales each element's loss; broadcasts to the input. */
  weight?: Tensor | null;
  /** Weight of positive examples, per class (broadcasts along the last dim). */
  posWeight?: Tensor | null;
}

function reductionOf(r: Reduction | null | undefined, op: string): Reduction {
  const v = r ?? 'mean';
  if (v !== 'mean' && v !== 'sum' && v !== 'none') throw new NablaError(`${String(v)} is not a valid value for reduction`, { op });
  return v;
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? loss.sum() : loss.mean();
}

/** Runs a step of `op` so that its error names `op` (the loss the user called), not the inner op. */
function inOp<T>(op: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof NablaError && e.op !== undefined && e.op !== op) {
      throw new NablaError(e.message.slice(e.op.length + 2), { op, cause: e });
    }
    throw e;
  }
}

function checkTensor(x: unknown, what: string, op: string): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new NablaError(`${what} must be a Tensor, got ${x === null ? 'null' : typeof x}`, { op });
}

function checkFloat(x: Tensor, what: string, op: string): void {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new NablaError(`${what} must be a floating point tensor, got ${x.dtype}`, { op });
}

function checkSameShape(input: Tensor, target: Tensor, op: string): void {
  if (target.shape.length !== input.shape.length || target.shape.some((d, i) => d !== input.shape[i])) {
    throw new NablaError(`Target size ([${target.shape.join(', ')}]) must be the same as input size ([${input.shape.join(', ')}])`, { op });
  }
}

/**
 * Mean squared error, `(input - target)²`.
 *
 * @example
 * nn.mseLoss(pred, target, { reduction: 'sum' });
 */
export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const op = 'mseLoss';
  checkTensor(input, 'input', op);
  checkTensor(target, 'target', op);
  [input, target] = amp.castInputs(op, [input, target] as const);
  const reduction = reductionOf(opts.reduction, op);
  return scoped(input.rt, () => reduce(inOp(op, () => input.sub(target)).square(), reduction));
}

/**
 * Mean absolute error, `|input - target|`.
 *
 * @example
 * nn.l1Loss(pred, target);
 */
export function l1Loss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const op = 'l1Loss';
  checkTensor(input, 'input', op);
  checkTensor(target, 'target', op);
  [input, target] = amp.castInputs(op, [input, target] as const);
  const reduction = reductionOf(opts.reduction, op);
  return scoped(input.rt, () => reduce(inOp(op, () => input.sub(target)).abs(), reduction));
}

/** Checks the class indices where they can be read synchronously (not on asynchronous devices). */
function checkTargets(target: Tensor, numClasses: number, ignoreIndex: number, op: string): void {
  let data: ArrayLike<number>;
  try {
    data = target.dataSync();
  } catch {
    return;
  }
  for (let i = 0; i < data.length; i++) {
    const t = data[i]!;
    if (t !== ignoreIndex && (t < 0 || t >= numClasses)) {
      throw new NablaError(`Target ${t} is out of bounds (expected a class index in [0, ${numClasses - 1}] or ignoreIndex ${ignoreIndex})`, { op });
    }
  }
}

interface ClassTargets {
  classDim: number;
  numClasses: number;
  /** Targets with ignored entries replaced by class 0 (safe to gather). */
  safe: Tensor;
  /** 1 where the target counts, 0 where it is ignored (input's dtype). */
  keep: Tensor;
  /** weight[target] · keep (null without weights). */
  weightOfTarget: Tensor | null;
}

/** Validates int32 class targets against `input` and prepares their masks and weights. */
function classTargets(input: Tensor, target: Tensor, weight: Tensor | null | undefined, ignoreIndex: number, op: string): ClassTargets {
  if (target.dtype !== 'int32') {
    throw new NablaError(`expected class indices of dtype int32 as target (or class probabilities of the input's shape), got ${target.dtype}`, { op });
  }
  if (input.ndim === 0) throw new NablaError('input must have at least 1 dimension (the classes)', { op });
  const classDim = input.ndim === 1 ? 0 : 1;
  const numClasses = input.shape[classDim]!;
  const expected = input.shape.filter((_, i) => i !== classDim);
  if (target.shape.length !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
    throw new NablaError(
      `expected target of shape [${expected.join(', ')}] for input of shape [${input.shape.join(', ')}] (classes along dim ${classDim}), got [${target.shape.join(', ')}]`,
      { op },
    );
  }
  if (weight && (weight.ndim !== 1 || weight.shape[0] !== numClasses)) {
    throw new NablaError(`weight tensor should be defined either for all ${numClasses} classes or no classes but got weight tensor of shape: [${weight.shape.join(', ')}]`, { op });
  }
  checkTargets(target, numClasses, ignoreIndex, op);
  const ignored = target.eq(ignoreIndex);
  const safe = where(ignored, 0, target);
  const keep = ignored.logicalNot().to(input.dtype);
  const weightOfTarget = weight ? weight.indexSelect(0, safe.reshape([-1])).reshape(target.shape).mul(keep) : null;
  return { classDim, numClasses, safe, keep, weightOfTarget };
}

/** The per-sample loss summed and divided by the total weight of the counted targets (PyTorch's mean). */
function weightedMean(perSample: Tensor, ct: ClassTargets): Tensor {
  return perSample.sum().div((ct.weightOfTarget ?? ct.keep).sum());
}

function nllFromTargets(logp: Tensor, ct: ClassTargets, reduction: Reduction): Tensor {
  const picked = logp.gather(ct.classDim, ct.safe.unsqueeze(ct.classDim)).squeeze(ct.classDim);
  const per = picked.neg().mul(ct.weightOfTarget ?? ct.keep);
  if (reduction === 'none') return per;
  if (reduction === 'sum') return per.sum();
  return weightedMean(per, ct);
}

/**
 * Negative log-likelihood of class `target` under log-probabilities `input` (`[N, C]`, `[C]` or
 * `[N, C, d1, ...]`). With 'mean', the sum is divided by the total weight of the counted targets.
 *
 * @example
 * nn.nllLoss(logits.logSoftmax(1), labels, { ignoreIndex: 0 });
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  const op = 'nllLoss';
  checkTensor(input, 'input', op);
  checkTensor(target, 'target', op);
  let weight: Tensor | null | undefined = opts.weight;
  [input, target, weight] = amp.castInputs(op, [input, target, weight] as const);
  if (weight !== opts.weight) opts = { ...opts, weight };
  checkFloat(input, 'input', op);
  const reduction = reductionOf(opts.reduction, op);
  return scoped(input.rt, () => nllFromTargets(input, classTargets(input, target, opts.weight, opts.ignoreIndex ?? -100, op), reduction));
}

/** weight reshaped to broadcast along the class dim of an input with `ndim` dims. */
function classWeight(weight: Tensor, classDim: number, ndim: number): Tensor {
  return weight.reshape([weight.shape[0]!, ...new Array<number>(ndim - classDim - 1).fill(1)]);
}

/**
 * Cross entropy between logits `input` (`[N, C]`, `[C]` or `[N, C, d1, ...]`) and either int32
 * class indices or class probabilities of the input's shape, with optional label smoothing,
 * class weights and ignored index. Computed from a log-softmax, so it is stable for any logits.
 *
 * @example
 * nn.crossEntropy(logits, rt.tensor([2, 0, 1], { dtype: 'int32' }), { labelSmoothing: 0.1 });
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkTensor(input, 'input', op);
  checkTensor(target, 'target', op);
  if (opts.weight) {
    let weight: Tensor | null | undefined = opts.weight;
    [input, target, weight] = amp.castInputs(op, [input, target, weight] as const);
    opts = { ...opts, weight };
  } else [input, target] = amp.castInputs(op, [input, target] as const);
  checkFloat(input, 'input', op);
  const reduction = reductionOf(opts.reduction, op);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new NablaError(`label_smoothing must be between 0.0 and 1.0. Got: ${eps}`, { op });
  if (input.ndim === 0) throw new NablaError('input must have at least 1 dimension (the classes)', { op });
  const weight = opts.weight ?? null;
  if (target.dtype !== 'int32') return crossEntropyProbs(input, target, weight, eps, reduction, op);
  return scoped(input.rt, () => {
    const ct = classTargets(input, target, weight, opts.ignoreIndex ?? -100, op);
    const logp = input.logSoftmax(ct.classDim);
    const nll = nllFromTargets(logp, ct, reduction);
    if (eps === 0) return nll;
    // PyTorch's smoothing term: -Σ_c w_c·log p_c per sample, zero where the target is ignored.
    const weighted = weight ? logp.mul(classWeight(weight, ct.classDim, input.ndim)) : logp;
    const smoothPer = weighted.sum(ct.classDim).neg().mul(ct.keep);
    let smooth: Tensor;
    if (reduction === 'none') smooth = smoothPer;
    else if (reduction === 'sum') smooth = smoothPer.sum();
    else smooth = weight ? weightedMean(smoothPer, ct) : smoothPer.mean();
    return nll.mul(1 - eps).add(smooth.mul(eps / ct.numClasses));
  });
}

function crossEntropyProbs(input: Tensor, target: Tensor, weight: Tensor | null, eps: number, reduction: Reduction, op: string): Tensor {
  checkFloat(target, 'target', op);
  if (target.shape.length !== input.shape.length || target.shape.some((d, i) => d !== input.shape[i])) {
    throw new NablaError(
      `class-probability targets must have the input's shape [${input.shape.join(', ')}], got [${target.shape.join(', ')}] (class indices must be int32)`,
      { op },
    );
  }
  const classDim = input.ndim === 1 ? 0 : 1;
  const numClasses = input.shape[classDim]!;
  return scoped(input.rt, () => {
    const t = eps > 0 ? target.mul(1 - eps).add(eps / numClasses) : target;
    let prod = input.logSoftmax(classDim).mul(t);
    if (weight) prod = prod.mul(classWeight(weight, classDim, input.ndim));
    const per = prod.sum(classDim).neg();
    if (reduction !== 'mean') return reduce(per, reduction);
    return per.sum().div(input.numel() / numClasses);
  });
}

/**
 * log σ(x) = x/2 − |x|/2 − log1p(e^{−|x|}): no overflow, and the right gradient (½) at 0.
 *
 * @example
 * nn.functional.logSigmoid(rt.tensor([-1000, 0, 1000])); // [-1000, -0.693, 0]
 */
export function logSigmoid(x: Tensor): Tensor {
  return scoped(x.rt, () => {
    const a = x.abs();
    return x.sub(a).mul(0.5).sub(a.neg().exp().log1p());
  });
}

/**
 * Binary cross entropy on logits: `(1 − y)·x − (1 + (posWeight − 1)·y)·log σ(x)`, the stable
 * form of `−[posWeight·y·log σ(x) + (1 − y)·log(1 − σ(x))]`.
 *
 * @example
 * nn.binaryCrossEntropyWithLogits(logits, labels01, { posWeight: rt.tensor([3]) });
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  checkTensor(input, 'input', op);
  checkTensor(target, 'target', op);
  {
    let { weight, posWeight } = opts;
    [input, target, weight, posWeight] = amp.castInputs(op, [input, target, weight, posWeight] as const);
    if (weight !== opts.weight || posWeight !== opts.posWeight) opts = { ...opts, weight, posWeight };
  }
  checkFloat(input, 'input', op);
  const reduction = reductionOf(opts.reduction, op);
  checkSameShape(input, target, op);
  return scoped(input.rt, () => {
    const logsig = logSigmoid(input);
    const linear = target.neg().add(1).mul(input);
    const logTerm = opts.posWeight ? opts.posWeight.sub(1).mul(target).add(1).mul(logsig) : logsig;
    let loss = linear.sub(logTerm);
    if (opts.weight) loss = loss.mul(opts.weight);
    return reduce(loss, reduction);
  });
}
