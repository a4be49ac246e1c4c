/**
 * Replays the PyTorch-recorded cases of `cases.json` (written by `gen.py`) through Nabla's public API
 * and compares every expectation. One case is one straight-line program; see README.md for the format.
 *
 * @example
 * import { loadCases, prepareDevice, runCases } from './run.js';
 * const ready = await prepareDevice('cpu');
 * const results = await runCases(loadCases().cases, 'cpu');
 * console.log(results.filter((r) => r.status === 'fail').length);
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as nabla from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import * as act from '@nabla/activations';

export type Device = 'cpu' | 'webgpu';
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObj = { [k: string]: Json };

export interface InputSpec {
  readonly dtype: 'float64' | 'float32' | 'int32' | 'bool';
  readonly shape: number[];
  readonly data: (number | boolean | string)[];
  readonly requiresGrad?: boolean;
}

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

export interface Case {
  readonly id: string;
  readonly category: string;
  readonly notes?: string;
  readonly inputs: Record<string, InputSpec>;
  readonly steps: JsonObj[];
  readonly expect: Record<string, Json>;
  readonly expectError?: { step: number; message: string; contains?: string };
  readonly tol: Tolerance;
  readonly tol32?: Tolerance;
  readonly float64Only?: boolean;
}

export interface CaseFile {
  readonly format: string;
  readonly generator: { script: string; torch: string; seed: number };
  readonly cases: Case[];
}

export interface CaseResult {
  readonly id: string;
  readonly category: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly message?: string;
}

/** The committed case file, beside this package's `src`/`dist`. */
export const CASES_PATH = fileURLToPath(new URL('../cases.json', import.meta.url));

export function loadCases(path: string = CASES_PATH): CaseFile {
  const file = JSON.parse(readFileSync(path, 'utf8')) as CaseFile;
  if (file.format !== 'nabla-conformance/1') throw new Error(`${path}: unknown format ${file.format}`);
  return file;
}

export type Prepared = { readonly ok: true; readonly description: string } | { readonly ok: false; readonly reason: string };

/**
 * Installs the CPU backend and the activations plugin into the default runtime and, for `webgpu`,
 * the WebGPU backend on the adapter that Node finds here (software ones included), made the default
 * device. Resolves `{ ok: false, reason }` when there is no adapter. `wasm: false` keeps the CPU
 * backend on its JavaScript kernels (as `NABLA_CPU_WASM=0` does); the CPU's description says which ran.
 */
export async function prepareDevice(device: Device, options: { wasm?: boolean } = {}): Promise<Prepared> {
  await nabla.use(cpuBackend(options.wasm === false ? { wasm: false } : {}));
  await nabla.use(act.activations());
  if (device === 'cpu') return { ok: true, description: nabla.defaultRuntime().backend('cpu').describe() };
  // Loaded only here so that a CPU run never starts Dawn.
  const gpu = await import('@nabla/backend-webgpu');
  const probe = await gpu.probeNodeAdapter();
  if (!probe.ok) return { ok: false, reason: `no WebGPU adapter (${probe.reason})` };
  await nabla.use(gpu.webgpuBackend(probe.options));
  nabla.setDefaultDevice('webgpu');
  return { ok: true, description: `${probe.description} (${probe.choice})` };
}

// ---------------------------------------------------------------------------------------------
// Interpreting one case

/** `item()` on a device that reads asynchronously: read at check time. */
class DeferredItem {
  constructor(readonly tensor: nabla.Tensor) {}
}

type Value = nabla.Tensor | number | boolean | null | undefined | DeferredItem | Value[];
type Env = Map<string, Value>;
type Callable = (...args: unknown[]) => unknown;

const TYPED = {
  float64: Float64Array,
  float32: Float32Array,
  int32: Int32Array,
  bool: Uint8Array,
} as const;

function special(v: number | boolean | string): number {
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return Number(v);
}

class Interpreter {
  readonly env: Env = new Map();
  constructor(
    readonly c: Case,
    readonly device: Device,
  ) {}

  private get f32(): boolean {
    return this.device !== 'cpu';
  }

  dtypeOf(d: string): nabla.DType {
    return (this.f32 && d === 'float64' ? 'float32' : d) as nabla.DType;
  }

  makeInputs(): void {
    for (const [name, spec] of Object.entries(this.c.inputs)) {
      const dtype = this.dtypeOf(spec.dtype);
      const data = new TYPED[dtype as keyof typeof TYPED](spec.data.map(special));
      const t = nabla.tensor(data, { dtype, shape: spec.shape, device: this.device, requiresGrad: spec.requiresGrad === true });
      this.env.set(name, t);
    }
  }

  tensor(name: string): nabla.Tensor {
    const v = this.env.get(name);
    if (!(v instanceof nabla.Tensor)) throw new Error(`harness: '${name}' is not a tensor`);
    return v;
  }

  arg(a: Json): unknown {
    if (a === null) return undefined;
    if (typeof a === 'string') {
      if (a.endsWith('.grad')) return this.tensor(a.slice(0, -5)).grad ?? null;
      if (!this.env.has(a)) throw new Error(`harness: unbound name '${a}'`);
      return this.env.get(a);
    }
    if (Array.isArray(a)) return a.map((v) => this.arg(v));
    if (typeof a === 'object') {
      if ('float' in a) return special(a.float as string);
      if ('str' in a) return a.str;
      throw new Error(`harness: unknown argument ${JSON.stringify(a)}`);
    }
    return a;
  }

  kwargs(k: Json | undefined): Record<string, unknown> | undefined {
    if (k === undefined || k === null || typeof k !== 'object' || Array.isArray(k)) return undefined;
    const out: Record<string, unknown> = { ...k };
    if (typeof out.dtype === 'string') out.dtype = this.dtypeOf(out.dtype);
    return out;
  }

  opStep(s: JsonObj): void {
    const op = s.op as string;
    const args = ((s.args as Json[] | undefined) ?? []).map((a) => this.arg(a));
    const kw = this.kwargs(s.kwargs);
    if (kw) args.push(kw);
    let r: unknown;
    switch (s.call) {
      case 'method': {
        const self = args.shift() as Record<string, unknown>;
        if (op === 'item' && this.f32) {
          r = new DeferredItem(self as unknown as nabla.Tensor);
          break;
        }
        const f = self[op];
        if (typeof f !== 'function') throw new TypeError(`Tensor has no method '${op}'`);
        r = (f as Callable).apply(self, args);
        break;
      }
      case 'function':
        r = this.lookup(nabla as unknown as Record<string, unknown>, op, 'nabla')(...args);
        break;
      case 'activations':
        r = this.lookup(act as unknown as Record<string, unknown>, op, '@nabla/activations')(...args);
        break;
      case 'apply': {
        const F = (act as unknown as Record<string, { apply: Callable }>)[op];
        if (!F) throw new TypeError(`@nabla/activations has no '${op}'`);
        r = F.apply(...args);
        break;
      }
      default:
        throw new Error(`harness: unknown call '${String(s.call)}'`);
    }
    if (typeof s.pick === 'string') r = (r as Record<string, unknown>)[s.pick];
    if (typeof s.out === 'string') this.env.set(s.out, r as Value);
  }

  lookup(mod: Record<string, unknown>, op: string, where: string): Callable {
    const f = mod[op];
    if (typeof f !== 'function') throw new TypeError(`${where} has no function '${op}'`);
    return f as Callable;
  }

  options(s: JsonObj, keys: string[]): Record<string, unknown> | undefined {
    const o: Record<string, unknown> = {};
    for (const k of keys) {
      if (!(k in s)) continue;
      const v = s[k];
      o[k] = k === 'inputs' || k === 'gradTensors' || k === 'gradOutputs' ? (v as string[]).map((n) => this.tensor(n)) : v;
    }
    return Object.keys(o).length ? o : undefined;
  }

  step(s: JsonObj): void {
    const names = (k: string) => (s[k] as string[]).map((n) => this.tensor(n));
    switch (s.call === undefined ? s.op : null) {
      case 'backward': {
        const t = this.tensor(s.tensor as string);
        const g = typeof s.gradient === 'string' ? this.tensor(s.gradient) : undefined;
        const o = this.options(s, ['retainGraph', 'createGraph', 'inputs']);
        if (o) t.backward(g, o);
        else t.backward(g);
        return;
      }
      case 'grad': {
        const o = this.options(s, ['gradOutputs', 'retainGraph', 'createGraph', 'allowUnused']) ?? {};
        const r = nabla.autograd.grad(names('outputs'), names('inputs'), o);
        (s.out as string[]).forEach((n, i) => this.env.set(n, r[i] ?? null));
        return;
      }
      case 'autogradBackward':
        nabla.autograd.backward(names('tensors'), this.options(s, ['gradTensors', 'retainGraph', 'createGraph', 'inputs']));
        return;
      case 'setRequiresGrad': {
        const [n, flag] = s.args as [string, boolean];
        this.tensor(n).requiresGrad = flag;
        return;
      }
      case 'noGrad':
      case 'enableGrad':
      case 'inferenceMode': {
        const body = () => this.steps(s.steps as JsonObj[]);
        nabla[s.op as 'noGrad' | 'enableGrad' | 'inferenceMode'](body);
        return;
      }
      case 'setGradEnabled':
        nabla.setGradEnabled((s.args as boolean[])[0]!, () => this.steps(s.steps as JsonObj[]));
        return;
      default:
        this.opStep(s);
    }
  }

  steps(steps: JsonObj[]): void {
    for (const s of steps) this.step(s);
  }
}

// ---------------------------------------------------------------------------------------------
// Checking

function within(got: number, exp: number, tol: Tolerance): boolean {
  if (Number.isNaN(exp)) return Number.isNaN(got);
  if (!Number.isFinite(exp)) return got === exp;
  return Math.abs(got - exp) <= tol.atol + tol.rtol * Math.abs(exp);
}

async function checkTensor(got: unknown, exp: JsonObj, tol: Tolerance, f32: boolean): Promise<string | null> {
  if (!(got instanceof nabla.Tensor)) return `expected a tensor, got ${describe(got)}`;
  const shape = exp.shape as number[];
  if (JSON.stringify(got.shape) !== JSON.stringify(shape)) return `shape [${got.shape}] != [${shape}]`;
  const want = f32 && exp.dtype === 'float64' ? 'float32' : (exp.dtype as string);
  if (got.dtype !== want) return `dtype ${got.dtype} != ${want}`;
  const data = Array.from(await got.data(), Number);
  const expData = (exp.data as (number | boolean | string)[]).map(special);
  const exact = want === 'int32' || want === 'bool';
  for (let i = 0; i < expData.length; i++) {
    const ok = exact ? data[i] === expData[i] : within(data[i]!, expData[i]!, tol);
    if (!ok) return `element ${i}: got ${data[i]}, expected ${expData[i]} (${exact ? 'exact' : `rtol ${tol.rtol}, atol ${tol.atol}`})`;
  }
  return null;
}

function describe(v: unknown): string {
  if (v instanceof nabla.Tensor) return `tensor [${v.shape}] ${v.dtype}`;
  if (v === undefined) return 'undefined';
  return JSON.stringify(v) ?? String(v);
}

async function checkKey(it: Interpreter, key: string, exp: Json, tol: Tolerance): Promise<string | null> {
  const dot = key.indexOf('.');
  const name = dot < 0 ? key : key.slice(0, dot);
  const attr = dot < 0 ? '' : key.slice(dot + 1);
  if (!it.env.has(name)) return `'${name}' was never bound`;
  let got: unknown = it.env.get(name);
  if (attr !== '') {
    if (!(got instanceof nabla.Tensor)) return `'${name}' is not a tensor`;
    const t = got;
    switch (attr) {
      case 'grad':
        got = t.grad;
        break;
      case 'requiresGrad':
      case 'isLeaf':
      case 'retainsGrad':
        got = t[attr];
        break;
      case 'gradFn':
        if (exp === null) return t.gradFn == null ? null : `gradFn is ${t.gradFn.name()}, expected none`;
        if (exp === true) return t.gradFn ? null : 'gradFn is null, expected a node';
        return t.gradFn?.name() === exp ? null : `gradFn ${t.gradFn?.name() ?? 'null'} != ${String(exp)}`;
      case 'gradFn.next': {
        // Only the edges that carry a gradient are compared, in order: PyTorch lists one edge per
        // differentiable input (a number operand gives a null edge, a mask or index none at all),
        // Nabla one per operand (null for masks and indices). See README.md, "What is compared".
        const names = (t.gradFn?.nextFunctions ?? []).flatMap(([n]) => (n ? [n.name()] : []));
        const want = (exp as (string | null)[]).filter((n) => n !== null);
        return JSON.stringify(names) === JSON.stringify(want) ? null : `nextFunctions ${JSON.stringify(names)} != ${JSON.stringify(want)}`;
      }
      default:
        return `harness: unknown attribute '${attr}'`;
    }
  }
  if (got instanceof DeferredItem) got = await got.tensor.itemAsync();
  if (exp === null) return got === null || got === undefined ? null : `expected null, got ${describe(got)}`;
  if (typeof exp === 'boolean') return got === exp ? null : `expected ${exp}, got ${describe(got)}`;
  if (typeof exp === 'object' && !Array.isArray(exp) && 'value' in exp) {
    const v = exp.value;
    if (typeof v === 'number' || typeof v === 'string') {
      return typeof got === 'number' && within(got, special(v), tol) ? null : `expected ${String(v)}, got ${describe(got)}`;
    }
    return got === v ? null : `expected ${String(v)}, got ${describe(got)}`;
  }
  if (typeof exp === 'object' && !Array.isArray(exp) && 'data' in exp) return checkTensor(got, exp, tol, it.device !== 'cpu');
  return `harness: unknown expectation ${JSON.stringify(exp)}`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e);
}

/** The error that reading a step's result raises, or null when it reads fine. */
async function readError(it: Interpreter, s: JsonObj): Promise<Error | null> {
  const out = typeof s.out === 'string' ? it.env.get(s.out) : undefined;
  if (!(out instanceof nabla.Tensor)) return null;
  try {
    await out.data();
    return null;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** Runs one case on `device` (already prepared) and says whether every expectation held. */
export async function runCase(c: Case, device: Device): Promise<CaseResult> {
  const base = { id: c.id, category: c.category };
  if (device !== 'cpu' && c.float64Only) return { ...base, status: 'skip', message: 'float64 only' };
  const tol = device === 'cpu' ? c.tol : (c.tol32 ?? { rtol: 1e-4, atol: 1e-5 });
  const it = new Interpreter(c, device);
  const fail = (message: string): CaseResult => ({ ...base, status: 'fail', message });
  try {
    it.makeInputs();
  } catch (e) {
    return fail(`making the inputs threw ${errorText(e)}`);
  }
  const err = c.expectError;
  for (let i = 0; i < c.steps.length; i++) {
    try {
      it.step(c.steps[i]!);
    } catch (e) {
      if (err?.step !== i) return fail(`step ${i} (${String(c.steps[i]!.op)}) threw ${errorText(e)}`);
      if (!(e instanceof nabla.NablaError)) {
        return fail(`step ${i} threw ${errorText(e)}, expected a NablaError like PyTorch's "${err.message}"`);
      }
      if (err.contains && !e.message.includes(err.contains)) {
        return fail(`step ${i} threw "${e.message}", which lacks PyTorch's "${err.contains}"`);
      }
      break;
    }
    if (err?.step === i) {
      // An asynchronous device checks data-dependent things (an index out of range) in its kernel and
      // reports them at the next read, as CUDA does: the error must then come from reading the result.
      const deferred = device !== 'cpu' ? await readError(it, c.steps[i]!) : null;
      if (!deferred) return fail(`step ${i} (${String(c.steps[i]!.op)}) did not throw; PyTorch: "${err.message}"`);
      if (!(deferred instanceof nabla.NablaError)) return fail(`reading step ${i}'s result threw ${errorText(deferred)}`);
      if (err.contains && !deferred.message.includes(err.contains)) {
        return fail(`reading step ${i}'s result threw "${deferred.message}", which lacks PyTorch's "${err.contains}"`);
      }
      break;
    }
  }
  for (const [key, exp] of Object.entries(c.expect)) {
    let problem: string | null;
    try {
      problem = await checkKey(it, key, exp, tol);
    } catch (e) {
      problem = `reading it threw ${errorText(e)}`;
    }
    if (problem) return fail(`${key}: ${problem}`);
  }
  return { ...base, status: 'pass' };
}

export interface RunOptions {
  readonly filter?: readonly string[];
  readonly exclude?: readonly string[];
}

export function selectCases(cases: readonly Case[], opts: RunOptions = {}): Case[] {
  return cases.filter(
    (c) =>
      (!opts.filter?.length || opts.filter.some((f) => c.id.includes(f))) && !opts.exclude?.some((f) => c.id.includes(f)),
  );
}

/** Runs the cases one after the other (they share the default runtime). */
export async function runCases(cases: readonly Case[], device: Device): Promise<CaseResult[]> {
  const out: CaseResult[] = [];
  for (const c of cases) out.push(await runCase(c, device));
  return out;
}

/** `N passed, M failed`: the last line of every run (skips are reported on the line before). */
export function summaryLine(results: readonly CaseResult[]): string {
  const n = (s: CaseResult['status']) => results.filter((r) => r.status === s).length;
  return `${n('pass')} passed, ${n('fail')} failed`;
}
