/**
 * The registries a runtime holds: devices (backends) and kernels. Each is a tsyringe
 * container-scoped service, so every runtime (child container) gets its own.
 */
import { injectable } from 'tsyringe';
import type { Backend, ElementwiseKernel, ElementwiseSpec, KernelName, StructuredKernel } from '../backend/types.js';
import { DTYPES, type DType } from '../dtype.js';
import { NablaError } from '../errors.js';

@injectable()
export class BackendRegistry {
  private readonly byDevice = new Map<string, Backend>();
  /** Which plugin registered each device, so uninstalling a plugin removes its devices. */
  readonly owner = new Map<string, string>();

  register(backend: Backend, owner: string): void {
    if (this.byDevice.has(backend.device)) {
      throw new NablaError(
        `a backend for device '${backend.device}' is already registered (by ${this.owner.get(backend.device)}); ` +
          `${owner} cannot register a second one`,
        { op: 'registerBackend' },
      );
    }
    this.byDevice.set(backend.device, backend);
    this.owner.set(backend.device, owner);
  }

  unregister(device: string): Backend | undefined {
    const b = this.byDevice.get(device);
    this.byDevice.delete(device);
    this.owner.delete(device);
    return b;
  }

  get(device: string): Backend | undefined {
    return this.byDevice.get(device);
  }

  devices(): string[] {
    return [...this.byDevice.keys()];
  }

  all(): Backend[] {
    return [...this.byDevice.values()];
  }
}

const DTYPE_INDEX: Record<DType, number> = { float32: 0, float64: 1, int32: 2, bool: 3, float16: 4, bfloat16: 5 };

interface Entry {
  fn: unknown;
  owner: string;
}

/**
 * Kernels by (name, device, dtype). A second registration for the same key is an error unless it
 * says `override`, so two plugins cannot silently fight over a kernel. Overrides stack: when the
 * overriding plugin is uninstalled, the kernel it replaced comes back.
 */
@injectable()
export class KernelRegistry {
  /** name → device → per-dtype stacks (indexed by DTYPE_INDEX); the last entry wins. */
  private readonly table = new Map<string, Map<string, (Entry[] | undefined)[]>>();
  /** Compiled elementwise kernels, by device then spec key. */
  private readonly compiled = new Map<string, Map<string, ElementwiseKernel>>();
  /** Bumped whenever compiled kernels are dropped, so memos of them elsewhere expire. */
  generation = 0;

  register(kind: string, name: string, device: string, dtypes: readonly DType[], fn: unknown, owner: string, override = false): void {
    const key = `${kind}:${name}`;
    let byDevice = this.table.get(key);
    if (!byDevice) this.table.set(key, (byDevice = new Map()));
    let slots = byDevice.get(device);
    if (!slots) byDevice.set(device, (slots = new Array(DTYPES.length)));
    for (const d of dtypes) {
      const stack = (slots[DTYPE_INDEX[d]] ??= []);
      const prev = stack[stack.length - 1];
      if (prev && !override) {
        throw new NablaError(
          `a ${kind} kernel for (${name}, ${device}, ${d}) is already registered by ${prev.owner}; ` +
            `${owner} must pass { override: true } to replace it`,
          { op: 'registerKernel' },
        );
      }
      stack.push({ fn, owner });
    }
    // An override of an elementwise op invalidates compiled kernels for that op.
    if (kind === 'elementwise') {
      this.compiled.get(device)?.clear();
      this.generation++;
    }
  }

  /** Removes every kernel `owner` registered (what it overrode is in effect again). */
  unregisterOwner(owner: string): void {
    for (const byDevice of this.table.values()) {
      for (const slots of byDevice.values()) {
        for (let i = 0; i < slots.length; i++) {
          const stack = slots[i];
          if (stack) slots[i] = stack.filter((e) => e.owner !== owner);
        }
      }
    }
    for (const m of this.compiled.values()) m.clear();
    this.generation++;
  }

  private top(key: string, device: string, dtype: DType): Entry | undefined {
    const stack = this.table.get(key)?.get(device)?.[DTYPE_INDEX[dtype]];
    return stack?.[stack.length - 1];
  }

  get<K extends KernelName>(name: K, device: string, dtype: DType): StructuredKernel<K> | undefined {
    return this.top(`kernel:${name}`, device, dtype)?.fn as StructuredKernel<K> | undefined;
  }

  has(name: string, device: string, dtype: DType): boolean {
    return this.top(`kernel:${name}`, device, dtype) !== undefined;
  }

  /** Whether a hand-written kernel is registered for the elementwise op `name` (it then wins over compiled ones). */
  hasElementwise(name: string, device: string, dtype: DType): boolean {
    return this.top(`elementwise:${name}`, device, dtype) !== undefined;
  }

  /** The kernel for an elementwise spec: a hand-written registration if any, else compiled once. */
  elementwise(backend: Backend, spec: ElementwiseSpec, dtype: DType): ElementwiseKernel {
    let byKey = this.compiled.get(backend.device);
    if (!byKey) this.compiled.set(backend.device, (byKey = new Map()));
    let k = byKey.get(spec.key);
    if (k === undefined) {
      const manual = this.top(`elementwise:${spec.name}`, backend.device, dtype);
      if (manual) k = manual.fn as ElementwiseKernel;
      else {
        try {
          k = backend.compileElementwise(spec);
        } catch (e) {
          throw new NablaError(
            `device '${backend.device}' cannot compile the elementwise kernel '${spec.name}' for ` +
              `(${spec.inputDtypes.join(', ')}) -> ${spec.outDtype}: ${(e as Error).message}`,
            { op: spec.name, cause: e },
          );
        }
      }
      byKey.set(spec.key, k);
    }
    return k;
  }
}
