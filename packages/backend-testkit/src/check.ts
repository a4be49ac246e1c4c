/**
 * Runs every case on the device under test and on the CPU backend, in one runtime, from the same
 * numbers: forward values, then the gradient of every floating output with respect to every input,
 * then a leak check (the device's bytes are back where they started once the case's tensors are
 * disposed). Reads are asynchronous, so devices that cannot read synchronously are checked too.
 */
import { autograd, createRuntime, isFloating, type DType, type Plugin, type Runtime, type Tensor } from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { CASES, type InputSpec, type OpCase } from './cases.js';
import { generator, seedOf, uniform } from './random.js';
import { DEFAULT_TOLERANCES, firstMismatch, type Tolerance } from './tolerance.js';

export interface CheckOptions {
  /** The device under test (`'webgl'`, `'my-npu'`). */
  readonly device: string;
  /** Plugins that install it (and any op plugins it should run); the CPU backend is added as the reference. */
  readonly plugins?: readonly Plugin[];
  /** A runtime that already has both the CPU backend and the device, instead of `plugins`. */
  readonly runtime?: Runtime;
  /** Floating dtypes to check (default: float32 and float64, those the device holds). */
  readonly dtypes?: readonly DType[];
  /** Which cases to run (default: all); the case names are listed in `CASES`. */
  readonly filter?: (caseName: string) => boolean;
  readonly tolerances?: Partial<Record<DType, Tolerance>>;
}

export interface CaseFailure {
  readonly case: string;
  readonly dtype: DType;
  readonly message: string;
}

export interface CheckReport {
  readonly device: string;
  /** The backend's own description (adapter, renderer, kernel path). */
  readonly describe: string;
  readonly dtypes: readonly DType[];
  /** `case [dtype]` for each case that passed. */
  readonly passed: readonly string[];
  readonly failures: readonly CaseFailure[];
  /** One line per failure and a count, ready to print. */
  summary(): string;
}

/**
 * Checks a device against the CPU backend, op by op, forward and backward.
 *
 * @example
 * import { checkBackend } from '@nabla/backend-testkit';
 * const report = await checkBackend({ device: 'toy', plugins: [toyBackend()] });
 * console.log(report.summary());            // "toy: 112 passed, 0 failed (...)"
 * if (report.failures.length) process.exit(1);
 */
export async function checkBackend(options: CheckOptions): Promise<CheckReport> {
  const rt = options.runtime ?? (await createRuntime({ plugins: [cpuBackend(), ...(options.plugins ?? [])] }));
  const backend = rt.backend(options.device);
  const dtypes = (options.dtypes ?? (['float32', 'float64'] as const)).filter((d) => backend.dtypes.includes(d) && isFloating(d));
  const passed: string[] = [];
  const failures: CaseFailure[] = [];
  try {
    for (const c of CASES) {
      if (options.filter && !options.filter(c.name)) continue;
      for (const dtype of dtypes) {
        const tol = options.tolerances?.[dtype] ?? DEFAULT_TOLERANCES[dtype];
        const message = await runCase(rt, options.device, c, dtype, tol);
        if (message === null) passed.push(`${c.name} [${dtype}]`);
        else failures.push({ case: c.name, dtype, message });
      }
    }
  } finally {
    if (!options.runtime) await rt.dispose();
  }
  const describe = backend.describe();
  return {
    device: options.device,
    describe,
    dtypes,
    passed,
    failures,
    summary: () =>
      [
        ...failures.map((f) => `✗ ${f.case} [${f.dtype}]: ${f.message}`),
        `${options.device}: ${passed.length} passed, ${failures.length} failed (${describe})`,
      ].join('\n'),
  };
}

interface Outcome {
  outputs: Tensor[];
  grads: (Tensor | null)[];
}

/** What one device computes for a case: outputs, then gradients w.r.t. the inputs. */
function compute(rt: Runtime, device: string, c: OpCase, dtype: DType, data: number[][]): Outcome {
  return rt.tidy(() => {
    const leaves = c.inputs.map((spec, i) => leaf(rt, device, dtype, spec, data[i]!));
    const inputs = leaves.map((l, i) => (c.inputs[i]!.strided ? l.transpose(-2, -1) : l));
    const result = c.run(...inputs);
    const outputs = Array.isArray(result) ? [...(result as readonly Tensor[])] : [result as Tensor];
    const diff = outputs.filter((o) => o.requiresGrad && isFloating(o.dtype));
    if (c.grad === false || diff.length === 0) return { outputs, grads: [] };
    const next = generator(seedOf(`${c.name}/grad`));
    const gradOutputs = diff.map((o) => rt.tensor(uniform(next, o.numel(), -1, 1), { dtype: o.dtype, device, shape: [...o.shape] }));
    const grads = autograd.grad(diff, leaves, { gradOutputs, allowUnused: true });
    return { outputs, grads };
  });
}

function leaf(rt: Runtime, device: string, dtype: DType, spec: InputSpec, values: number[]): Tensor {
  const shape = [...spec.shape];
  if (spec.strided) [shape[shape.length - 2], shape[shape.length - 1]] = [shape[shape.length - 1]!, shape[shape.length - 2]!];
  return rt.tensor(values, { dtype, device, shape, requiresGrad: true });
}

/** null when the device matches the CPU, else what differs. */
async function runCase(rt: Runtime, device: string, c: OpCase, dtype: DType, tol: Tolerance): Promise<string | null> {
  const next = generator(seedOf(c.name));
  const data = c.inputs.map((s) => uniform(next, s.shape.reduce((a, b) => a * b, 1), s.range?.[0] ?? -2, s.range?.[1] ?? 2));
  const scaled = { rtol: tol.rtol * (c.looser ?? 1), atol: tol.atol * (c.looser ?? 1) };
  const deviceBytes = (): number => rt.memory().byDevice[device]?.numBytes ?? 0;
  const expected = compute(rt, 'cpu', c, dtype, data);
  const before = deviceBytes();
  let actual: Outcome | null = null;
  let verdict: string | null;
  try {
    actual = compute(rt, device, c, dtype, data);
    verdict = await compare(expected, actual, device, scaled);
  } catch (e) {
    verdict = `threw ${(e as Error).name}: ${(e as Error).message}`;
  }
  for (const t of [...expected.outputs, ...expected.grads, ...(actual?.outputs ?? []), ...(actual?.grads ?? [])]) t?.dispose();
  const leaked = deviceBytes() - before;
  if (verdict === null && leaked > 0) verdict = `${leaked} bytes of device memory still allocated after every tensor of the case was disposed`;
  return verdict;
}

async function compare(expected: Outcome, actual: Outcome, device: string, tol: Tolerance): Promise<string | null> {
  const pairs: [string, Tensor | null, Tensor | null][] = [
    ...expected.outputs.map((e, i): [string, Tensor | null, Tensor | null] => [`output ${i}`, e, actual.outputs[i] ?? null]),
    ...expected.grads.map((e, i): [string, Tensor | null, Tensor | null] => [`gradient of input ${i}`, e, actual.grads[i] ?? null]),
  ];
  for (const [what, e, a] of pairs) {
    if (e === null && a === null) continue;
    if (e === null || a === null) return `${what}: ${e === null ? 'the cpu gives none, the device gives one' : 'the device gives none'}`;
    if (a.device !== device) return `${what} is on '${a.device}', expected '${device}'`;
    if (a.dtype !== e.dtype) return `${what} has dtype ${a.dtype}, expected ${e.dtype}`;
    if (a.shape.join() !== e.shape.join()) return `${what} has shape [${a.shape}], expected [${e.shape}]`;
    const [av, ev] = await Promise.all([a.data(), e.data()]);
    const k = firstMismatch(av, ev, e.dtype === 'int32' || e.dtype === 'bool' ? { rtol: 0, atol: 0 } : tol);
    if (k >= 0) return `${what}[${k}] (flat) is ${av[k]}, the cpu gives ${ev[k]} (rtol ${tol.rtol}, atol ${tol.atol})`;
  }
  return null;
}
