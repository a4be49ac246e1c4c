/** Containers: `Sequential`, `ModuleList`, `ModuleDict` (children named '0', '1', ... or by key). */
import { NablaError, type Tensor } from '@nabla/core';
import { Module } from '../module.js';

function checkModule(m: unknown, op: string, where: string): Module {
  if (!(m instanceof Module)) throw new NablaError(`${where} is not a Module (got ${m === null ? 'null' : typeof m})`, { op });
  return m;
}

/** The child at `index` (negative counts from the end) of a list-like container. */
function at(self: Module, index: number, op: string): Module {
  const n = self._modules.size;
  const i = index < 0 ? index + n : index;
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new NablaError(`index ${index} is out of range for a container of ${n} modules`, { op });
  return self._modules.get(String(i))!;
}

/**
 * Calls its modules in order, each on the previous one's output.
 *
 * @example
 * const mlp = new Sequential(new Linear(2, 64), new ReLU(), new Linear(64, 3));
 * mlp.namedParameters()[0][0]; // '0.weight'
 * // or with names: new Sequential({ fc1: new Linear(2, 64), act: new ReLU() })
 */
export class Sequential extends Module {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const first = modules[0];
    if (modules.length === 1 && first !== undefined && !(first instanceof Module) && typeof first === 'object') {
      for (const [name, m] of Object.entries(first)) this.registerModule(name, checkModule(m, 'Sequential', `entry '${name}'`));
    } else {
      (modules as Module[]).forEach((m, i) => this.registerModule(String(i), checkModule(m, 'Sequential', `argument ${i}`)));
    }
  }

  /** Each module's `call` on the previous output (typed for the usual tensor-to-tensor chain). */
  override forward(x: Tensor): Tensor {
    let y: unknown = x;
    for (const m of this._modules.values()) if (m) y = m.call(y);
    return y as Tensor;
  }

  get length(): number {
    return this._modules.size;
  }

  /** The module at `index` (negative counts from the end). */
  get(index: number): Module {
    return at(this, index, 'Sequential.get');
  }

  /** Adds a module at the end, named by its position. */
  append(module: Module): this {
    this.registerModule(String(this._modules.size), checkModule(module, 'Sequential.append', 'argument'));
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return [...this._modules.values()].filter((m): m is Module => m !== null)[Symbol.iterator]();
  }
}

/**
 * Holds submodules in a list (registered as '0', '1', ...); it has no forward of its own.
 *
 * @example
 * class Deep extends Module {
 *   layers = new ModuleList(Array.from({ length: 4 }, () => new Linear(32, 32)));
 *   override forward(x: Tensor): Tensor {
 *     for (const l of this.layers) x = (l as Linear).call(x).relu();
 *     return x;
 *   }
 * }
 * new Deep().namedParameters()[0]![0]; // 'layers.0.weight'
 */
export class ModuleList extends Module {
  constructor(modules: Iterable<Module> = []) {
    super();
    this.extend(modules);
  }

  get length(): number {
    return this._modules.size;
  }

  get(index: number): Module {
    return at(this, index, 'ModuleList.get');
  }

  append(module: Module): this {
    this.registerModule(String(this._modules.size), checkModule(module, 'ModuleList.append', 'argument'));
    return this;
  }

  push(...modules: Module[]): number {
    for (const m of modules) this.append(m);
    return this.length;
  }

  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  [Symbol.iterator](): Iterator<Module> {
    return [...this._modules.values()].filter((m): m is Module => m !== null)[Symbol.iterator]();
  }
}

/**
 * Holds submodules by name.
 *
 * @example
 * const heads = new ModuleDict({ cls: new Linear(64, 10), box: new Linear(64, 4) });
 * (heads.get('cls') as Linear).call(features);
 */
export class ModuleDict extends Module {
  constructor(modules: Record<string, Module> | Iterable<[string, Module]> = {}) {
    super();
    const entries = Symbol.iterator in modules ? [...(modules as Iterable<[string, Module]>)] : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  get(key: string): Module | undefined {
    return this._modules.get(key) ?? undefined;
  }

  set(key: string, module: Module): this {
    this.registerModule(key, checkModule(module, 'ModuleDict.set', `entry '${key}'`));
    return this;
  }

  has(key: string): boolean {
    return this._modules.has(key);
  }

  keys(): string[] {
    return [...this._modules.keys()];
  }

  get size(): number {
    return this._modules.size;
  }
}
