/**
 * `nanDetector(model)`: finds where a NaN first appears, forward and backward, and says so in a
 * NablaError naming the module path (`layers.2.fc1`), the op, whether that op produced the NaN or
 * only passed it on, the first bad index, and the forward stack where the op was called.
 *
 * Forward: every module's output is checked. The first module whose output has a NaN while its
 * inputs had none is rerun (its own forward, same inputs, anomaly mode on) with every tensor it
 * makes collected in program order; the first of them holding a NaN names the op. Backward: every
 * graph node a module's forward made gets a hook checking the gradients it computes.
 *
 * Synchronous devices (the CPU) are checked as they go and throw at once. On asynchronous devices
 * the checks are flags computed on the device and read in one batch by `await detector.check()`
 * (once per step), which then reruns the culprit to locate the op.
 */
import { NablaError, Node, Tensor, cat, type Runtime } from '@nabla/core';
import type { Module } from '@nabla/nn';

export interface NanDetectorOptions {
  /** Check module outputs (default true). */
  forward?: boolean;
  /** Check every node's gradients (default true). */
  backward?: boolean;
  /** Treat ±Infinity as bad too (default false: NaN only). */
  inf?: boolean;
}

/** Where a NaN was found (also on the error as `error.nan`). */
export interface NanReport {
  phase: 'forward' | 'backward';
  /** Module path (`''` for the root). */
  module: string;
  moduleClass: string;
  /** The op (`log`) and its graph node (`LogBackward0`), when located. */
  op: string | null;
  node: string | null;
  /** Whether the op (or node) made the NaN from clean inputs, or only passed on a NaN it received. */
  cause: 'produced' | 'passed on';
  /** Multi-index of the first bad element, and how many there are. */
  index: number[] | null;
  count: number;
  shape: readonly number[];
  /** The forward stack where the op was called (anomaly mode), when located. */
  stack: string | null;
}

export interface NanDetector {
  /** Reads this step's flags (one batched read per device) and throws the located NaN, if any. */
  check(): Promise<void>;
  remove(): void;
}

const opName = (node: string): string => {
  const base = node.replace(/Backward\d*$/, '');
  return base.charAt(0).toLowerCase() + base.slice(1);
};

function unravel(i: number, shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    const s = shape[d]!;
    out[d] = i % s;
    i = Math.floor(i / s);
  }
  return out;
}

function floats(v: unknown): Tensor[] {
  const out: Tensor[] = [];
  const walk = (x: unknown): void => {
    if (x instanceof Tensor) {
      if ((x.dtype.startsWith('float')) && !x.isDisposed) out.push(x);
    } else if (Array.isArray(x)) x.forEach(walk);
  };
  walk(v);
  return out;
}

/** Counts of bad values per tensor as one device vector (float32). */
function badCounts(rt: Runtime, ts: readonly Tensor[], inf: boolean): Tensor {
  return rt.outsideTidy(() =>
    rt.tidy(() =>
      rt.noGrad(() => {
        if (ts.length === 0) return rt.zeros([0], { device: rt.defaultDevice });
        return cat(
          ts.map((t) => {
            const bad = inf ? t.isnan().logicalOr(t.abs().eq(Infinity)) : t.isnan();
            return bad.to('float32').sum().reshape([1]);
          }),
        );
      }),
    ),
  );
}

const isSync = (t: Tensor): boolean => t.rt.backend(t.device).readsSync;

async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.data(), Number);
}

function valuesSync(t: Tensor): number[] {
  return Array.from(t.dataSync(), Number);
}

interface ForwardCall {
  path: string;
  module: Module;
  /** Detached aliases of the inputs (kept for a rerun on asynchronous devices). */
  args: unknown[];
  flags: Tensor;
  nIn: number;
}

interface NodeCheck {
  path: string;
  module: Module;
  node: string;
  shape: readonly number[];
  flags: Tensor;
  nOut: number;
  grads: Tensor[];
}

/**
 * Installs NaN checks on every module of `model`.
 *
 * @example
 * const det = nanDetector(model);
 * model.call(x);               // CPU: throws at once, naming module, op and "produced"
 * await det.check();           // WebGPU: one batched read per step, then it locates
 * det.remove();
 */
export function nanDetector(model: Module, opts: NanDetectorOptions = {}): NanDetector {
  const forward = opts.forward ?? true;
  const backward = opts.backward ?? true;
  const inf = !!opts.inf;
  const handles: { remove(): void }[] = [];
  let removed = false;
  let rerunning = false;
  let calls: ForwardCall[] = [];
  let checks: NodeCheck[] = [];
  const claimed = new WeakSet<Node>();
  const names = new WeakMap(model.namedModules().map(([n, m]) => [m, n] as const));

  const fail = (r: NanReport): never => {
    const what = r.op ? `op '${r.op}' (${r.node})` : r.node ? `node ${r.node}` : 'an input';
    const where = r.index ? ` at index [${r.index.join(', ')}] of a tensor of shape [${r.shape.join(', ')}] (${r.count} bad value${r.count === 1 ? '' : 's'})` : '';
    const mod = r.module === '' ? `the root module (${r.moduleClass})` : `module '${r.module}' (${r.moduleClass})`;
    const msg =
      `NaN ${r.cause} in ${r.phase} of ${mod} by ${what}${where}` +
      (r.cause === 'produced' ? '; its inputs had none' : '; it received the NaN') +
      (r.stack ? `.\nForward stack where it was created:\n${r.stack}` : '.');
    const e = new NablaError(msg, { op: 'nanDetector' }) as NablaError & { nan: NanReport };
    e.nan = r;
    throw e;
  };

  /** Reruns the module's forward on `args`, collecting what it makes, and returns its tensors in order. */
  const rerun = (m: Module, args: unknown[]): { made: Tensor[]; free: () => void } => {
    const rt = (floats(args)[0] ?? m.parameters()[0])!.rt;
    const made: Tensor[] = [];
    // The runtime's collector (what tidy uses) lists every tensor made, in program order.
    const outer = rt._created;
    rt._created = made;
    rerunning = true;
    try {
      rt.detectAnomaly(() => rt.enableGrad(() => m.forward(...args)));
    } finally {
      rerunning = false;
      rt._created = outer;
    }
    return { made: made.filter((t) => floats([t]).length > 0), free: () => made.forEach((t) => t.dispose()) };
  };

  const locateForward = async (call: ForwardCall): Promise<never> => {
    const { made, free } = rerun(call.module, call.args);
    try {
      const base: NanReport = { phase: 'forward', module: call.path, moduleClass: call.module.constructor.name, op: null, node: null, cause: 'produced', index: null, count: 0, shape: [], stack: null };
      if (made.length === 0) return fail(base);
      const flags = badCounts(made[0]!.rt, made, inf);
      const counts = await values(flags);
      flags.dispose();
      const k = counts.findIndex((c) => c > 0);
      if (k < 0) return fail(base);
      const t = made[k]!;
      const bad = t.rt.noGrad(() => (inf ? t.isnan().logicalOr(t.abs().eq(Infinity)) : t.isnan()));
      const mask = await values(bad);
      bad.dispose();
      const node = t.gradFn;
      return fail({ ...base, op: node ? opName(node.name()) : null, node: node ? node.name() : null, index: unravel(mask.findIndex((v) => v !== 0), t.shape), count: counts[k]!, shape: t.shape, stack: node?.stack ?? null });
    } finally {
      free();
    }
  };

  const onForward = (m: Module, args: unknown[], out: unknown): void => {
    if (removed || rerunning) return;
    const outs = floats(out);
    if (outs.length === 0) return;
    const ins = floats(args);
    const rt = outs[0]!.rt;
    const path = names.get(m) ?? m.qualifiedName() ?? '';
    const flags = badCounts(rt, [...ins, ...outs], inf);
    if (backward) claimNodes(path, m, outs, ins);
    if (isSync(flags)) {
      const v = valuesSync(flags);
      flags.dispose();
      const inBad = v.slice(0, ins.length).some((c) => c > 0);
      const outBad = v.slice(ins.length).some((c) => c > 0);
      if (!outBad) return;
      if (inBad) return fail({ phase: 'forward', module: path, moduleClass: m.constructor.name, op: null, node: null, cause: 'passed on', index: null, count: 0, shape: [], stack: null });
      return locateSync({ path, module: m, args, flags, nIn: ins.length });
    }
    // Detached copies that still require grad where the inputs did: the rerun then records a node
    // for the op even in a module without parameters (x.log()), so check() can name it.
    const kept = args.map((a) => (a instanceof Tensor ? rt.outsideTidy(() => (a.requiresGrad ? a.detach().requiresGrad_() : a.detach())) : a));
    calls.push({ path, module: m, args: kept, flags, nIn: ins.length });
  };

  const locateSync = (call: ForwardCall): void => {
    const { made, free } = rerun(call.module, call.args);
    try {
      const base: NanReport = { phase: 'forward', module: call.path, moduleClass: call.module.constructor.name, op: null, node: null, cause: 'produced', index: null, count: 0, shape: [], stack: null };
      if (made.length === 0) fail(base);
      const flags = badCounts(made[0]!.rt, made, inf);
      const counts = valuesSync(flags);
      flags.dispose();
      const k = counts.findIndex((c) => c > 0);
      if (k < 0) fail(base);
      const t = made[k]!;
      const bad = t.rt.noGrad(() => (inf ? t.isnan().logicalOr(t.abs().eq(Infinity)) : t.isnan()));
      const mask = valuesSync(bad);
      bad.dispose();
      const node = t.gradFn;
      fail({ ...base, op: node ? opName(node.name()) : null, node: node ? node.name() : null, index: unravel(mask.findIndex((v) => v !== 0), t.shape), count: counts[k]!, shape: t.shape, stack: node?.stack ?? null });
    } finally {
      free();
    }
  };

  /** Hooks the nodes this module's forward made (children claimed theirs first). */
  const claimNodes = (path: string, m: Module, outs: Tensor[], ins: Tensor[]): void => {
    const stop = new Set(ins.map((t) => t.gradFn).filter((n): n is Node => n !== null));
    const stack = outs.map((t) => t.gradFn).filter((n): n is Node => n !== null);
    const seen = new Set<Node>();
    while (stack.length) {
      const node = stack.pop()!;
      if (seen.has(node) || stop.has(node) || claimed.has(node) || node.name() === 'AccumulateGrad') continue;
      seen.add(node);
      claimed.add(node);
      const name = node.name();
      const shape = node.outMeta[0]?.shape ?? [];
      const h = node.registerHook((gradIn, gradOut) => {
        if (removed) return;
        const gi = gradIn.filter((g): g is Tensor => g !== null);
        const go = gradOut.filter((g): g is Tensor => g !== null);
        if (gi.length === 0) return;
        const rt = gi[0]!.rt;
        const flags = badCounts(rt, [...go, ...gi], inf);
        if (isSync(flags)) {
          const v = valuesSync(flags);
          flags.dispose();
          if (!v.slice(go.length).some((c) => c > 0)) return;
          const produced = !v.slice(0, go.length).some((c) => c > 0);
          const bad = gi.find((_, i) => v[go.length + i]! > 0)!;
          const mask = valuesSync(rt.noGrad(() => bad.isnan()));
          fail({ phase: 'backward', module: path, moduleClass: m.constructor.name, op: opName(name), node: name, cause: produced ? 'produced' : 'passed on', index: unravel(mask.findIndex((x) => x !== 0), bad.shape), count: v[go.length + gi.indexOf(bad)]!, shape: bad.shape, stack: node.stack });
        }
        checks.push({ path, module: m, node: name, shape, flags, nOut: go.length, grads: gi.map((g) => rt.outsideTidy(() => g.detach())) });
        return undefined;
      });
      handles.push(h);
      for (const [u] of node.nextFunctions) if (u) stack.push(u);
    }
  };

  if (forward || backward) {
    for (const [, m] of model.namedModules()) handles.push(m.registerForwardHook((mm, a, o) => onForward(mm, a, o)));
  }

  const clear = (): void => {
    for (const c of calls) {
      c.flags.dispose();
      for (const a of c.args) if (a instanceof Tensor) a.dispose();
    }
    for (const c of checks) {
      c.flags.dispose();
      for (const g of c.grads) g.dispose();
    }
    calls = [];
    checks = [];
  };

  return {
    async check(): Promise<void> {
      const fwd = calls;
      const bwd = checks;
      try {
        const all = [...fwd.map((c) => c.flags), ...bwd.map((c) => c.flags)];
        if (all.length === 0) return;
        const byRt = all[0]!.rt;
        const joined = byRt.outsideTidy(() => byRt.noGrad(() => cat(all)));
        const v = await values(joined);
        joined.dispose();
        let at = 0;
        if (forward) {
          for (const c of fwd) {
            const n = c.flags.numel();
            const inBad = v.slice(at, at + c.nIn).some((x) => x > 0);
            const outBad = v.slice(at + c.nIn, at + n).some((x) => x > 0);
            at += n;
            if (!outBad) continue;
            if (inBad) fail({ phase: 'forward', module: c.path, moduleClass: c.module.constructor.name, op: null, node: null, cause: 'passed on', index: null, count: 0, shape: [], stack: null });
            await locateForward(c);
          }
        } else at = fwd.reduce((s, c) => s + c.flags.numel(), 0);
        for (const c of bwd) {
          const n = c.flags.numel();
          const outBad = v.slice(at, at + c.nOut).some((x) => x > 0);
          const inBad = v.slice(at + c.nOut, at + n);
          at += n;
          const k = inBad.findIndex((x) => x > 0);
          if (k < 0) continue;
          const bad = c.grads[k]!;
          const maskT = bad.rt.noGrad(() => bad.isnan());
          const mask = await values(maskT);
          maskT.dispose();
          fail({ phase: 'backward', module: c.path, moduleClass: c.module.constructor.name, op: opName(c.node), node: c.node, cause: outBad ? 'passed on' : 'produced', index: unravel(mask.findIndex((x) => x !== 0), bad.shape), count: inBad[k]!, shape: bad.shape, stack: null });
        }
      } finally {
        for (const c of fwd) {
          c.flags.dispose();
          for (const a of c.args) if (a instanceof Tensor) a.dispose();
        }
        for (const c of bwd) {
          c.flags.dispose();
          for (const g of c.grads) g.dispose();
        }
        if (calls === fwd) calls = [];
        if (checks === bwd) checks = [];
      }
    },
    remove(): void {
      if (removed) return;
      removed = true;
      for (const h of handles) h.remove();
      handles.length = 0;
      clear();
    },
  };
}
