/**
 * `Module`, PyTorch's `nn.Module`: a tree of modules that owns parameters and buffers.
 *
 * Registration is by assignment, as in PyTorch: assigning a `Parameter` or a `Module` to a field
 * (a class field or `this.x = ...` in the constructor) registers it under the field's name, in
 * assignment order. `registerParameter`, `registerModule` and `registerBuffer` do the same
 * explicitly. (Assignment is seen through a Proxy that the constructor returns, so subclasses must
 * not use `#private` fields; TypeScript's `private` is fine.)
 *
 * `module.call(...args)` runs `forward` with the module's hooks, like PyTorch's `module(x)`.
 *
 * @example
 * class Net extends Module {
 *   fc1 = new Linear(784, 256);
 *   fc2 = new Linear(256, 10);
 *   forward(x: Tensor): Tensor {
 *     return this.fc2.call(this.fc1.call(x).relu());
 *   }
 * }
 * const net = new Net();
 * net.namedParameters().map(([name]) => name); // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 */
import { isDType, isFloating, NablaError, Tensor, type DType, type MaybeGrad, type RemovableHandle } from '@nabla/core';
import { BackwardHookState } from './backward-hook.js';
import { globalHooks } from './global-hooks.js';
import { attachLegacyHooks, checkNotMixed } from './legacy-backward-hook.js';
import { pin, untracked } from './lifetime.js';
import { asParameter, Parameter } from './parameter.js';

/** Sees the positional arguments before `forward`; may return replacements (an array, or one value). */
export type ForwardPreHook<M extends Module = Module> = (module: M, args: unknown[]) => unknown;
/** Sees the arguments and the output after `forward`; may return a replacement output. */
export type ForwardHook<M extends Module = Module> = (module: M, args: unknown[], output: unknown) => unknown;
/**
 * Sees the gradients w.r.t. the module's positional inputs (null where an input is not a tensor
 * or needs no gradient) and outputs; may return replacements for the input gradients.
 */
export type FullBackwardHook<M extends Module = Module> = (module: M, gradInput: MaybeGrad[], gradOutput: MaybeGrad[]) => MaybeGrad[] | void | null | undefined;
/** Sees the gradients w.r.t. the module's outputs before they flow into it; may replace them. */
export type FullBackwardPreHook<M extends Module = Module> = (module: M, gradOutput: MaybeGrad[]) => MaybeGrad[] | void | null | undefined;

export interface HookOptions {
  /** Run this hook before the ones already registered. */
  prepend?: boolean;
}

export interface StateDictOptions {
  /** Prepended to every key. */
  prefix?: string;
  /** Return the parameters themselves instead of detached aliases. */
  keepVars?: boolean;
  /**
   * Name keys as PyTorch does (`running_mean`, `num_batches_tracked`) instead of Nabla's camelCase
   * (`runningMean`), so `nn.save(model.stateDict({ pytorchNames: true }))` loads with
   * `load_state_dict` in Python. `loadStateDict` accepts either spelling.
   */
  pytorchNames?: boolean;
}

export interface LoadStateDictOptions {
  /** Throw when keys are missing or unexpected (default true). Shape mismatches always throw. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

export type StateDict = Record<string, Tensor>;

function addHook<T>(list: T[], fn: T, prepend: boolean | undefined): RemovableHandle {
  if (typeof fn !== 'function') throw new NablaError(`a hook must be a function, got ${typeof fn}`, { op: 'registerHook' });
  if (prepend) list.unshift(fn);
  else list.push(fn);
  return {
    remove() {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    },
  };
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (v instanceof Tensor) return 'Tensor';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Joins a dotted module path. */
export function joinName(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

export class Module {
  /** Training mode (Dropout is active); `eval()` turns it off. */
  training = true;

  /** @internal registered parameters in registration order (null: a declared but absent parameter, e.g. no bias) */
  _parameters = new Map<string, Parameter | null>();
  /** @internal */
  _buffers = new Map<string, Tensor | null>();
  /** @internal buffers left out of the state dict */
  _nonPersistent = new Set<string>();
  /** @internal */
  _modules = new Map<string, Module | null>();
  /** @internal the name under which the parent registered this module (for error messages) */
  _name: string | null = null;
  /** @internal the module that registered this one last */
  _parent: Module | null = null;
  /** @internal */ _forwardPreHooks: ForwardPreHook[] = [];
  /** @internal */ _forwardHooks: ForwardHook[] = [];
  /** @internal */ _backwardHooks: FullBackwardHook[] = [];
  /** @internal */ _backwardPreHooks: FullBackwardPreHook[] = [];
  /** @internal hooks of the deprecated registerBackwardHook */ _legacyBackwardHooks: FullBackwardHook[] = [];

  constructor() {
    for (const k of Object.keys(this)) Object.defineProperty(this, k, { enumerable: false });
    // Assignments (`this.fc1 = ...`, class fields) arrive as [[DefineOwnProperty]] on the proxy.
    return new Proxy(this, {
      defineProperty: (target, key, desc) => {
        if (!fieldWriter.active && typeof key === 'string' && !INTERNAL.has(key) && 'value' in desc && target._assign(key, desc.value)) return true;
        return Reflect.defineProperty(target, key, desc);
      },
      deleteProperty: (target, key) => {
        if (typeof key === 'string') {
          target._parameters.delete(key);
          target._buffers.delete(key);
          target._nonPersistent.delete(key);
          target._modules.delete(key);
        }
        return Reflect.deleteProperty(target, key);
      },
    });
  }

  /** @internal Registers an assigned value; returns true when it was handled. */
  _assign(key: string, value: unknown): boolean {
    if (value instanceof Parameter) {
      this._modules.delete(key);
      this._buffers.delete(key);
      this._setParameter(key, value as Parameter);
      return true;
    }
    if (value instanceof Module) {
      this._parameters.delete(key);
      this._buffers.delete(key);
      this._setModule(key, value);
      return true;
    }
    const empty = value === null || value === undefined;
    if (this._parameters.has(key)) {
      if (!empty) {
        throw new NablaError(`cannot assign '${typeName(value)}' as parameter '${key}' (Parameter or null expected)`, { op: this.constructor.name });
      }
      this._setParameter(key, null);
      return true;
    }
    if (this._modules.has(key)) {
      if (!empty) {
        throw new NablaError(`cannot assign '${typeName(value)}' as child module '${key}' (Module or null expected)`, { op: this.constructor.name });
      }
      this._setModule(key, null);
      return true;
    }
    if (this._buffers.has(key)) {
      if (!empty && !(value instanceof Tensor)) {
        throw new NablaError(`cannot assign '${typeName(value)}' as buffer '${key}' (Tensor or null expected)`, { op: this.constructor.name });
      }
      this._setBuffer(key, empty ? null : (value as Tensor));
      return true;
    }
    return false;
  }

  private _setParameter(key: string, p: Parameter | null): void {
    this._parameters.set(key, p);
    this._writeField(key, p);
  }

  private _setModule(key: string, m: Module | null): void {
    this._modules.set(key, m);
    if (m !== null) {
      m._name = key;
      m._parent = this;
    }
    this._writeField(key, m);
  }

  private _setBuffer(key: string, t: Tensor | null): void {
    if (t !== null) pin(t); // module state: never freed by a tidy()
    this._buffers.set(key, t);
    this._writeField(key, t);
  }

  /** Stores the field on the real object, bypassing registration. */
  private _writeField(key: string, value: unknown): void {
    fieldWriter.active = true;
    try {
      (this as Record<string, unknown>)[key] = value;
    } finally {
      fieldWriter.active = false;
    }
  }

  // ---- explicit registration

  /** Registers `param` (or a null placeholder) under `name`. */
  registerParameter(name: string, param: Parameter | null): void {
    this._checkName(name, 'registerParameter', this._parameters);
    if (param !== null && !(param instanceof Parameter)) {
      throw new NablaError(`cannot assign '${typeName(param)}' as parameter '${name}' (Parameter or null expected)`, { op: 'registerParameter' });
    }
    this._modules.delete(name);
    this._buffers.delete(name);
    this._setParameter(name, param);
  }

  /** Registers a child module under `name` (PyTorch's `add_module` / `register_module`). */
  registerModule(name: string, module: Module | null): void {
    this._checkName(name, 'registerModule', this._modules);
    if (module !== null && !(module instanceof Module)) {
      throw new NablaError(`${typeName(module)} is not a Module subclass`, { op: 'registerModule' });
    }
    this._parameters.delete(name);
    this._buffers.delete(name);
    this._setModule(name, module);
  }

  /** PyTorch's `add_module`. */
  addModule(name: string, module: Module | null): void {
    this.registerModule(name, module);
  }

  /**
   * Registers a tensor that is part of the module's state but not a parameter (running
   * statistics, masks). Persistent buffers are saved in `stateDict()`.
   */
  registerBuffer(name: string, tensor: Tensor | null, opts: { persistent?: boolean } = {}): void {
    this._checkName(name, 'registerBuffer', this._buffers);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new NablaError(`cannot assign '${typeName(tensor)}' object to buffer '${name}' (Tensor or null required)`, { op: 'registerBuffer' });
    }
    this._parameters.delete(name);
    this._modules.delete(name);
    if (opts.persistent === false) this._nonPersistent.add(name);
    else this._nonPersistent.delete(name);
    this._setBuffer(name, tensor);
  }

  private _checkName(name: string, op: string, own: Map<string, unknown>): void {
    if (typeof name !== 'string') throw new NablaError(`name should be a string, got ${typeof name}`, { op });
    if (name === '') throw new NablaError('name can\'t be empty string ""', { op });
    if (name.includes('.')) throw new NablaError(`name can't contain ".", got: ${name}`, { op });
    const known = this._parameters.has(name) || this._modules.has(name) || this._buffers.has(name);
    if (!known && !own.has(name) && name in this) throw new NablaError(`attribute '${name}' already exists`, { op });
  }

  // ---- forward and hooks

  /**
   * Subclasses define the computation here (with their own parameter and return types); call the
   * module with `call(...)` so that its hooks run.
   */
  forward(..._args: unknown[]): unknown {
    throw new NablaError(`Module [${this.constructor.name}] is missing the required "forward" function`, { op: 'forward' });
  }

  /**
   * Runs `forward` with the forward (pre-)hooks and sets up the full backward hooks (PyTorch's
   * `module(x)`). Typed as the subclass's `forward`.
   *
   * @example
   * const y = linear.call(x); // Tensor, like linear.forward(x), with hooks
   */
  call(...args: Parameters<this['forward']>): ReturnType<this['forward']> {
    if (
      globalHooks.count === 0 && this._forwardPreHooks.length === 0 && this._forwardHooks.length === 0 &&
      this._backwardHooks.length === 0 && this._backwardPreHooks.length === 0 && this._legacyBackwardHooks.length === 0
    ) {
      return this.forward(...args) as ReturnType<this['forward']>;
    }
    const g = globalHooks;
    let a: unknown[] = args;
    for (const h of [...g.forwardPre, ...this._forwardPreHooks]) {
      const r = h(this, a);
      if (r !== undefined && r !== null) a = Array.isArray(r) ? r : [r];
    }
    let bw: BackwardHookState | null = null;
    const backwardHooks = [...g.backward, ...this._backwardHooks];
    const backwardPreHooks = [...g.backwardPre, ...this._backwardPreHooks];
    if (backwardHooks.length || backwardPreHooks.length) {
      bw = new BackwardHookState(this, backwardHooks, backwardPreHooks);
      a = bw.setupInputHook(a);
    }
    const forwardHooks = [...g.forward, ...this._forwardHooks];
    let out: unknown;
    try {
      out = this.forward(...a);
    } catch (e) {
      // Global hooks registered with alwaysCall still see the call (PyTorch's always_call).
      for (const h of forwardHooks) {
        if (!g.alwaysCalled.has(h)) continue;
        try {
          h(this, a, undefined);
        } catch (hookError) {
          console.warn(`a global module forward hook with alwaysCall threw while handling an error of ${this.constructor.name}.forward: ${(hookError as Error).message}`);
        }
      }
      throw e;
    }
    for (const h of forwardHooks) {
      const r = h(this, a, out);
      if (r !== undefined && r !== null) out = r;
    }
    if (bw) out = bw.setupOutputHook(out);
    if (this._legacyBackwardHooks.length) attachLegacyHooks(this, a, out, this._legacyBackwardHooks.slice());
    return out as ReturnType<this['forward']>;
  }

  /** `hook(module, args)` runs before `forward` and may return replacement arguments. */
  registerForwardPreHook(hook: ForwardPreHook<this>, opts: HookOptions = {}): RemovableHandle {
    return addHook(this._forwardPreHooks, hook as ForwardPreHook, opts.prepend);
  }

  /** `hook(module, args, output)` runs after `forward` and may return a replacement output. */
  registerForwardHook(hook: ForwardHook<this>, opts: HookOptions = {}): RemovableHandle {
    return addHook(this._forwardHooks, hook as ForwardHook, opts.prepend);
  }

  /**
   * `hook(module, gradInput, gradOutput)` runs when the gradients w.r.t. the module's inputs are
   * computed, and may return replacements for them (PyTorch's `register_full_backward_hook`).
   */
  registerFullBackwardHook(hook: FullBackwardHook<this>, opts: HookOptions = {}): RemovableHandle {
    checkNotMixed(this, false);
    return addHook(this._backwardHooks, hook as FullBackwardHook, opts.prepend);
  }

  /** `hook(module, gradOutput)` runs before the module's backward and may replace `gradOutput`. */
  registerFullBackwardPreHook(hook: FullBackwardPreHook<this>, opts: HookOptions = {}): RemovableHandle {
    checkNotMixed(this, false);
    return addHook(this._backwardPreHooks, hook as FullBackwardPreHook, opts.prepend);
  }

  /**
   * Deprecated (PyTorch's `register_backward_hook`): `hook(module, gradInput, gradOutput)` on the
   * graph node that made the output, so `gradInput` are that node's input gradients (for `Linear`:
   * bias, input and weightᵀ), not necessarily the module's. Each call warns as PyTorch does when
   * they differ; use `registerFullBackwardHook` for the documented behaviour.
   *
   * @example
   * fc.registerBackwardHook((m, gradInput, gradOutput) => console.log(gradInput.map((g) => g?.shape)));
   */
  registerBackwardHook(hook: FullBackwardHook<this>): RemovableHandle {
    checkNotMixed(this, true);
    return addHook(this._legacyBackwardHooks, hook as FullBackwardHook, false);
  }

  // ---- traversal

  /** Every module in the tree (this one first, as ''), depth first, with dotted names. */
  namedModules(prefix = '', memo: Set<Module> = new Set()): [string, Module][] {
    const out: [string, Module][] = [];
    const walk = (m: Module, p: string): void => {
      if (memo.has(m)) return;
      memo.add(m);
      out.push([p, m]);
      for (const [name, child] of m._modules) if (child) walk(child, joinName(p, name));
    };
    walk(this, prefix);
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  namedChildren(): [string, Module][] {
    const seen = new Set<Module>();
    const out: [string, Module][] = [];
    for (const [name, m] of this._modules) {
      if (m && !seen.has(m)) {
        seen.add(m);
        out.push([name, m]);
      }
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** Parameters with dotted names (`layers.0.weight`); a shared parameter is listed once. */
  namedParameters(opts: { prefix?: string; recurse?: boolean } = {}): [string, Parameter][] {
    return this._namedMembers((m) => m._parameters, opts.prefix ?? '', opts.recurse ?? true) as [string, Parameter][];
  }

  /** The parameters, in registration order (what an optimizer takes). */
  parameters(recurse = true): Parameter[] {
    return this.namedParameters({ recurse }).map(([, p]) => p);
  }

  namedBuffers(opts: { prefix?: string; recurse?: boolean } = {}): [string, Tensor][] {
    return this._namedMembers((m) => m._buffers, opts.prefix ?? '', opts.recurse ?? true);
  }

  buffers(recurse = true): Tensor[] {
    return this.namedBuffers({ recurse }).map(([, b]) => b);
  }

  private _namedMembers(members: (m: Module) => Map<string, Tensor | null>, prefix: string, recurse: boolean): [string, Tensor][] {
    const mods: [string, Module][] = recurse ? this.namedModules(prefix) : [[prefix, this]];
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [p, m] of mods) {
      for (const [name, t] of members(m)) {
        if (t === null || seen.has(t)) continue;
        seen.add(t);
        out.push([joinName(p, name), t]);
      }
    }
    return out;
  }

  /** Calls `fn` on every submodule (children first) and then on this module. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** The dotted path of this module from the root that registered it (null for a root). */
  qualifiedName(): string | null {
    const parts: string[] = [];
    const seen = new Set<Module>();
    let m: Module | null = this;
    while (m !== null && m._name !== null && !seen.has(m)) {
      seen.add(m);
      parts.unshift(m._name);
      m = m._parent;
    }
    return parts.length ? parts.join('.') : null;
  }

  /** A NablaError whose message starts with the module's name and class (`fc1 (Linear): ...`). */
  error(message: string): NablaError {
    const name = this.qualifiedName();
    return new NablaError(message, { op: name === null ? this.constructor.name : `${name} (${this.constructor.name})` });
  }

  // ---- modes and gradients

  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new NablaError('training mode is expected to be boolean', { op: 'train' });
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Sets `requiresGrad` on every parameter. */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad_(flag);
    return this;
  }

  /**
   * Clears the parameters' gradients: drops them (`setToNone`, the default, as PyTorch) or
   * zeroes them in place (keeps the buffers, so steady-state training allocates none).
   */
  zeroGrad(opts: { setToNone?: boolean } = {}): void {
    zeroGrads(this.parameters(), opts.setToNone ?? true);
  }

  // ---- state

  /** Persistent state by dotted name: parameters, then buffers, module by module (PyTorch's order). */
  stateDict(opts: StateDictOptions = {}): StateDict {
    const out: StateDict = {};
    const keep = !!opts.keepVars;
    const key = opts.pytorchNames ? snakeCase : (n: string): string => n;
    const walk = (m: Module, prefix: string): void => {
      for (const [name, p] of m._parameters) if (p) out[prefix + key(name)] = keep ? p : p.detach();
      for (const [name, b] of m._buffers) if (b && !m._nonPersistent.has(name)) out[prefix + key(name)] = keep ? b : b.detach();
      for (const [name, c] of m._modules) if (c) walk(c, `${prefix}${name}.`);
    };
    walk(this, opts.prefix ?? '');
    return out;
  }

  /**
   * Copies `stateDict`'s tensors into the parameters and buffers. Strict by default: missing and
   * unexpected keys are an error listing them; a shape mismatch is always an error naming the key
   * and both shapes.
   */
  loadStateDict(stateDict: StateDict | Map<string, Tensor>, opts: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const entries = stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict ?? {}));
    const missingKeys: string[] = [];
    const mismatches: string[] = [];
    const expected = new Set<string>();
    const copies: [Tensor, Tensor][] = [];
    const walk = (m: Module, prefix: string): void => {
      const own: [string, Tensor | null][] = [...m._parameters, ...[...m._buffers].filter(([n]) => !m._nonPersistent.has(n))];
      for (const [name, t] of own) {
        if (t === null) continue;
        // PyTorch's snake_case spelling of a camelCase name (running_mean) is accepted too.
        const camel = prefix + name;
        const snake = prefix + snakeCase(name);
        const key = !entries.has(camel) && entries.has(snake) ? snake : camel;
        expected.add(key);
        const v = entries.get(key);
        if (v === undefined) {
          missingKeys.push(key);
          continue;
        }
        if (!(v instanceof Tensor)) {
          mismatches.push(`While copying the parameter named "${key}", expected a Tensor from checkpoint but received ${typeName(v)}`);
          continue;
        }
        if (v.shape.length !== t.shape.length || v.shape.some((d, i) => d !== t.shape[i])) {
          mismatches.push(
            `size mismatch for ${key}: copying a param with shape [${v.shape.join(', ')}] from checkpoint, the shape in current model is [${t.shape.join(', ')}].`,
          );
          continue;
        }
        copies.push([t, v]);
      }
      for (const [name, c] of m._modules) if (c) walk(c, `${prefix}${name}.`);
    };
    walk(this, '');
    const unexpectedKeys = [...entries.keys()].filter((k) => !expected.has(k));
    const errors: string[] = [];
    if (strict) {
      if (unexpectedKeys.length) errors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
      if (missingKeys.length) errors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    }
    errors.push(...mismatches);
    if (errors.length) {
      throw new NablaError(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${errors.join('\n\t')}`, { op: 'loadStateDict' });
    }
    for (const [t, v] of copies) {
      t.rt.noGrad(() => {
        const src = v.device === t.device ? v : v.to(t.device);
        t.copy_(src);
        if (src !== v) src.dispose();
      });
    }
    return { missingKeys, unexpectedKeys };
  }

  // ---- devices and dtypes

  /**
   * Moves (device name) or casts (floating dtype) every parameter, gradient and buffer. New
   * parameter tensors replace the old ones, which are disposed: build optimizers after calling
   * `to` (PyTorch swaps `param.data` in place; a tensor here cannot change device or dtype).
   *
   * @example
   * const model = new nn.Linear(2, 3, { runtime: rt }).to('float64');
   * model.weight.dtype; // 'float64'
   */
  to(target: DType | string): this {
    return this._convert(target, (t) => untracked(t.rt, () => t.rt.noGrad(() => t.to(target))));
  }

  /**
   * Casts every floating parameter, gradient and buffer to float16 (PyTorch's `Module.half()`); as
   * `to('float16')`.
   *
   * @example
   * const model = new nn.Linear(2, 3, { runtime: rt }).half();
   * model.weight.dtype; // 'float16'
   */
  half(): this {
    return this.to('float16');
  }

  /** Casts every floating parameter, gradient and buffer to bfloat16; as `to('bfloat16')`. */
  bfloat16(): this {
    return this.to('bfloat16');
  }

  /** Casts every floating parameter, gradient and buffer to float32; as `to('float32')`. */
  float(): this {
    return this.to('float32');
  }

  /** Casts every floating parameter, gradient and buffer to float64; as `to('float64')`. */
  double(): this {
    return this.to('float64');
  }

  /** `to` for devices that read back asynchronously (WebGPU → CPU). */
  async toAsync(target: DType | string): Promise<this> {
    const moved = new Map<Tensor, Tensor>();
    const all = [...this.parameters(), ...this.buffers()];
    for (const t of all) {
      if (!this._converts(t, target)) continue;
      moved.set(t, await untracked(t.rt, () => t.toAsync(target)));
      const g = t.grad;
      if (g) moved.set(g, await untracked(g.rt, () => g.toAsync(target)));
    }
    return this._convert(target, (t) => moved.get(t) ?? t);
  }

  private _converts(t: Tensor, target: DType | string): boolean {
    return !isDType(target) || isFloating(t.dtype);
  }

  private _convert(target: DType | string, move: (t: Tensor) => Tensor): this {
    if (typeof target !== 'string') throw new NablaError(`expected a device name or a dtype, got ${typeof target}`, { op: 'to' });
    if (isDType(target) && !isFloating(target)) {
      throw new NablaError(`nn.Module.to only accepts floating point dtypes, but got desired dtype=${target}`, { op: 'to' });
    }
    const done = new Map<Tensor, Tensor>();
    for (const m of this.modules()) {
      for (const [name, p] of m._parameters) {
        if (p === null || !this._converts(p, target)) continue;
        let np = done.get(p);
        if (np === undefined) {
          const moved = move(p);
          if (moved === p) continue;
          np = asParameter(moved);
          if (p.requiresGrad) np.requiresGrad_(true);
          if (p.grad) np.grad = move(p.grad);
          done.set(p, np);
        }
        m._setParameter(name, np as Parameter);
      }
      for (const [name, b] of m._buffers) {
        if (b === null || !this._converts(b, target)) continue;
        const nb = done.get(b) ?? move(b);
        done.set(b, nb);
        if (nb !== b) m._setBuffer(name, nb);
      }
    }
    // The old tensors are replaced everywhere in the tree: free them (and their gradients) now.
    for (const [old, moved] of done) {
      if (old === moved) continue;
      const g = old.grad;
      if (g !== null && g !== moved.grad) {
        old.grad = null;
        g.dispose();
      }
      old.dispose();
    }
    return this;
  }

  // ---- printing

  /** Extra text inside the module's repr: `Linear(in_features=2, out_features=3, bias=true)`. */
  extraRepr(): string {
    return '';
  }

  toString(): string {
    const extra = this.extraRepr();
    const kids = this.namedChildren();
    if (kids.length === 0) return `${this.constructor.name}(${extra})`;
    const lines = kids.map(([n, m]) => `  (${n}): ${m.toString().split('\n').join('\n  ')}`);
    return `${this.constructor.name}(${extra ? `\n  ${extra}` : ''}\n${lines.join('\n')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Lets `_writeField` store a field on the proxied module without re-registering it. */
const fieldWriter = { active: false };

/** Module's own bookkeeping fields: never registered as parameters or submodules. */
const INTERNAL = new Set([
  'training',
  '_parameters',
  '_buffers',
  '_nonPersistent',
  '_modules',
  '_name',
  '_parent',
  '_forwardPreHooks',
  '_forwardHooks',
  '_backwardHooks',
  '_backwardPreHooks',
  '_legacyBackwardHooks',
]);

/**
 * `zeroGrad` for a list of tensors (shared by `Module` and the optimizers). With `setToNone` the
 * dropped gradients are disposed (PyTorch frees them by reference counting): clone a gradient
 * first to keep it.
 */
export function zeroGrads(params: Iterable<Tensor>, setToNone: boolean): void {
  for (const p of params) {
    const g = p.grad;
    if (g === null) continue;
    if (setToNone) {
      p.grad = null;
      g.dispose();
      continue;
    }
    const own = g.requiresGrad ? g.detach() : g;
    if (own !== g) p.grad = own;
    p.rt.noGrad(() => own.zero_());
  }
}

/** `runningMean` → `running_mean`: PyTorch's spelling of a state-dict name. */
function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
