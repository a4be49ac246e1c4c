/**
 * A runtime: one dependency-injection container (a tsyringe child container) holding the
 * registries, the event bus, grad-mode state, the RNG and memory accounting. `createRuntime()`
 * gives an isolated one; module-level functions (`nabla.tensor`, `nabla.use`) use the default one.
 * Two runtimes share nothing: not plugins, not kernels, not tensors.
 */
import 'reflect-metadata';
import { container as rootContainer, Lifecycle, type DependencyContainer } from 'tsyringe';
import type { Backend, KernelName } from '../backend/types.js';
import type { DType } from '../dtype.js';
import { NablaError } from '../errors.js';
import { EventBus } from './events.js';
import { GradMode } from './grad-mode.js';
import { MemoryTracker, type MemoryInfo } from './memory.js';
import type { ElementwiseKernelRegistration, KernelRegistration, NamedOp, Plugin, PluginContext } from './plugin.js';
import { BackendRegistry, KernelRegistry } from './registries.js';
import { Rng } from './rng.js';
import { satisfies } from './semver.js';
import { BACKEND_REGISTRY, EVENTS, GRAD_MODE, KERNEL_REGISTRY, MEMORY, RNG, RUNTIME, type Token } from './tokens.js';
import { VERSION } from '../version.js';
import type { Tensor } from '../tensor/tensor.js';
import type { SavedTensorsHooks } from '../autograd/saved-hooks.js';

interface Installed {
  plugin: Plugin;
  ctx: PluginContext;
}

let nextRuntimeId = 1;
/** Every runtime not yet collected, so an error in one can point at another that has what it lacks. */
const liveRuntimes = new Set<WeakRef<Runtime>>();

export class Runtime {
  readonly id = nextRuntimeId++;
  readonly container: DependencyContainer;
  readonly backends: BackendRegistry;
  readonly kernels: KernelRegistry;
  readonly events: EventBus;
  readonly gradMode: GradMode;
  readonly rng: Rng;
  readonly memoryTracker: MemoryTracker;
  /**
   * @internal Where every new tensor of this runtime is recorded while someone collects them: the
   * innermost `tidy` (tensor/tidy.ts), or the backward engine while it runs a node (so temporaries
   * and consumed gradients are freed at once, not by the GC, which on GPU devices would hold
   * buffers for many steps). null when nobody is collecting.
   */
  _created: Tensor[] | null = null;
  /**
   * @internal The saved-tensor hook pair in force (autograd/saved-hooks.ts), read by every tensor
   * saved for backward; null when none is (the pair of an enclosing scope is restored on exit).
   */
  _savedHooks: SavedTensorsHooks | null = null;
  readonly ops = new Map<string, NamedOp>();
  private readonly opOwner = new Map<string, string>();
  private readonly installed = new Map<string, Installed>();
  private defaultDeviceName: string | null = null;

  /** How errors name this runtime: `the default runtime` or `runtime #3 (createRuntime)`. */
  readonly label: string;

  constructor(opts: { label?: string } = {}) {
    this.label = opts.label ?? `runtime #${this.id} (createRuntime)`;
    liveRuntimes.add(new WeakRef(this));
    this.container = rootContainer.createChildContainer();
    for (const cls of [BackendRegistry, KernelRegistry, EventBus, GradMode, MemoryTracker] as const) {
      this.container.register(cls as never, { useClass: cls as never }, { lifecycle: Lifecycle.ContainerScoped });
    }
    this.container.register(Rng, { useValue: new Rng() });
    this.backends = this.container.resolve(BackendRegistry);
    this.kernels = this.container.resolve(KernelRegistry);
    this.events = this.container.resolve(EventBus);
    this.gradMode = this.container.resolve(GradMode);
    this.memoryTracker = this.container.resolve(MemoryTracker);
    this.memoryTracker._rt = this;
    this.rng = this.container.resolve(Rng);
    const services: [Token<unknown>, unknown][] = [
      [RUNTIME, this], [BACKEND_REGISTRY, this.backends], [KERNEL_REGISTRY, this.kernels], [EVENTS, this.events],
      [GRAD_MODE, this.gradMode], [MEMORY, this.memoryTracker], [RNG, this.rng],
    ];
    for (const [token, value] of services) this.container.register(token, { useValue: value });
  }

  /**
   * This runtime's service for a DI token (`RUNTIME`, `BACKEND_REGISTRY`, `EVENTS`, ...; see
   * runtime/tokens.ts).
   *
   * @example
   * const rt = await nabla.createRuntime({ plugins: [cpuBackend()] });
   * rt.resolve(nabla.BACKEND_REGISTRY).devices(); // ['cpu']
   */
  resolve<T>(token: Token<T>): T {
    if (!this.container.isRegistered(token)) throw new NablaError(`${this.label} has no service for ${token.description ?? 'this token'}`, { op: 'resolve' });
    return this.container.resolve<T>(token);
  }

  // ---- plugins

  /** Installs a plugin; resolves once it is ready. */
  async use(plugin: Plugin): Promise<this> {
    if (!plugin || typeof plugin.install !== 'function' || typeof plugin.name !== 'string') {
      throw new NablaError('a plugin is an object { name, version, install(ctx) }', { op: 'use' });
    }
    if (this.installed.has(plugin.name)) {
      throw new NablaError(`plugin ${plugin.name} is already installed in this runtime`, { op: 'use' });
    }
    if (plugin.coreRange && !satisfies(VERSION, plugin.coreRange)) {
      throw new NablaError(
        `plugin ${plugin.name}@${plugin.version} supports @nabla/core ${plugin.coreRange}, but this is @nabla/core ${VERSION}`,
        { op: 'use' },
      );
    }
    const ctx = this.contextFor(plugin);
    this.installed.set(plugin.name, { plugin, ctx });
    if (this.events.watching['plugin:install']) this.events.emit('plugin:install', { name: plugin.name, version: plugin.version });
    try {
      await plugin.install(ctx);
    } catch (e) {
      this.removeRegistrations(plugin.name);
      this.installed.delete(plugin.name);
      throw e;
    }
    if (this.events.watching['plugin:ready']) this.events.emit('plugin:ready', { name: plugin.name, version: plugin.version });
    return this;
  }

  /** Uninstalls a plugin: its backends, kernels and ops go away with it. */
  async uninstall(name: string): Promise<void> {
    const entry = this.installed.get(name);
    if (!entry) throw new NablaError(`plugin ${name} is not installed`, { op: 'uninstall' });
    await entry.plugin.uninstall?.(entry.ctx);
    const backends = this.removeRegistrations(name);
    for (const b of backends) await b.dispose?.();
    this.installed.delete(name);
    if (this.events.watching['plugin:dispose']) this.events.emit('plugin:dispose', { name, version: entry.plugin.version });
  }

  plugins(): { name: string; version: string }[] {
    return [...this.installed.values()].map((e) => ({ name: e.plugin.name, version: e.plugin.version }));
  }

  /** A hint naming the other live runtimes that do have devices (the usual cause of a missing backend). */
  private othersWithBackends(): string {
    const others: string[] = [];
    for (const ref of liveRuntimes) {
      const rt = ref.deref();
      if (rt === undefined) liveRuntimes.delete(ref);
      else if (rt !== this && rt.backends.devices().length > 0) others.push(`${rt.label}, devices ${rt.backends.devices().join(', ')}`);
    }
    if (others.length === 0) return '';
    return `; backends are installed in ${others.join('; ')}: make tensors and modules with that runtime's methods (rt.tensor, ...), or install the plugins in ${this.label} too`;
  }

  /** Uninstalls every plugin (last installed first). */
  async dispose(): Promise<void> {
    for (const name of [...this.installed.keys()].reverse()) await this.uninstall(name);
  }

  private removeRegistrations(owner: string): Backend[] {
    this.kernels.unregisterOwner(owner);
    const removed: Backend[] = [];
    for (const [device, o] of [...this.backends.owner]) {
      if (o === owner) {
        const b = this.backends.unregister(device);
        if (b) removed.push(b);
        if (this.defaultDeviceName === device) this.defaultDeviceName = null;
      }
    }
    for (const [op, o] of [...this.opOwner]) {
      if (o === owner) {
        this.ops.delete(op);
        this.opOwner.delete(op);
      }
    }
    return removed;
  }

  private contextFor(plugin: Plugin): PluginContext {
    const owner = plugin.name;
    const rt = this;
    return {
      runtime: rt,
      events: rt.events,
      resolve: <T>(token: Token<T>): T => rt.resolve(token),
      registerBackend(backend: Backend) {
        rt.backends.register(backend, owner);
        if (rt.events.watching['backend:register']) rt.events.emit('backend:register', { device: backend.device, description: backend.describe() });
      },
      registerKernel<K extends KernelName>(reg: KernelRegistration<K>) {
        if (typeof reg.kernel !== 'function') {
          throw new NablaError(`${owner} registered kernel '${reg.name}' for device '${reg.device}' without a function (got ${typeof reg.kernel})`, { op: 'registerKernel' });
        }
        rt.kernels.register('kernel', reg.name, reg.device, reg.dtypes, reg.kernel, owner, reg.override);
        if (rt.events.watching['kernel:register']) rt.events.emit('kernel:register', { kernel: reg.name, device: reg.device, dtypes: reg.dtypes });
      },
      registerElementwiseKernel(reg: ElementwiseKernelRegistration) {
        rt.kernels.register('elementwise', reg.op, reg.device, reg.dtypes, reg.kernel, owner, reg.override);
        if (rt.events.watching['kernel:register']) rt.events.emit('kernel:register', { kernel: reg.op, device: reg.device, dtypes: reg.dtypes });
      },
      defineOp(def: NamedOp) {
        rt.defineOp(def, owner);
      },
    };
  }

  /** Registers an op declaration under its name (core's ops are registered with owner 'core'). */
  defineOp(def: NamedOp, owner: string): void {
    const prev = this.opOwner.get(def.name);
    if (prev !== undefined) {
      throw new NablaError(`op '${def.name}' is already defined by ${prev}; ${owner} cannot define it again`, { op: 'defineOp' });
    }
    this.ops.set(def.name, def);
    this.opOwner.set(def.name, owner);
    if (this.events.watching['op:define']) this.events.emit('op:define', { op: def.name });
  }

  // ---- devices

  backend(device: string, op?: string): Backend {
    const b = this.backends.get(device);
    if (!b) {
      const have = this.backends.devices();
      throw new NablaError(
        `no backend is registered for device '${device}' (registered: ${have.length ? have.join(', ') : 'none'}; ` +
          `install one, e.g. await nabla.use(cpuBackend()))`,
        { op },
      );
    }
    return b;
  }

  get defaultDevice(): string {
    if (this.defaultDeviceName !== null) return this.defaultDeviceName;
    if (this.backends.get('cpu')) return 'cpu';
    const first = this.backends.devices()[0];
    if (first === undefined) {
      throw new NablaError(
        `no backend is installed in ${this.label}: install one first, e.g. await nabla.use(cpuBackend())` + this.othersWithBackends(),
      );
    }
    return first;
  }

  setDefaultDevice(device: string): void {
    this.backend(device, 'setDefaultDevice');
    this.defaultDeviceName = device;
  }

  checkDType(device: string, dtype: DType, op?: string): Backend {
    const b = this.backend(device, op);
    if (!b.dtypes.includes(dtype)) {
      throw new NablaError(
        `device '${device}' does not support dtype ${dtype} (supported: ${b.dtypes.join(', ')})` +
          (dtype === 'float64' ? '; float64 is not available on this device, use float32' : '') +
          (dtype === 'float16' || dtype === 'bfloat16' ? `; this device has no 16-bit storage, use float32 here (.float())` : ''),
        { op },
      );
    }
    return b;
  }

  private readonly transfers = new Set<Promise<void>>();

  /** @internal A copy from an asynchronous device is in flight; `synchronize()` waits for it. */
  trackTransfer(p: Promise<void>): void {
    this.transfers.add(p);
    void p.then(
      () => this.transfers.delete(p),
      () => this.transfers.delete(p),
    );
  }

  /** Resolves when all queued work on `device` (or every device) and every cross-device copy is done. */
  async synchronize(device?: string): Promise<void> {
    const backends = device !== undefined ? [this.backend(device, 'synchronize')] : this.backends.all();
    // The copies in flight now, taken before any await: one that fails while the devices drain
    // leaves the set at once, and its failure must still reach this call.
    const transfers = [...this.transfers];
    await Promise.all(
      backends.map((b) =>
        b.synchronize().catch((e: unknown) => {
          // Asynchronous devices report kernel failures here (an invalid kernel, a lost device).
          if (e instanceof NablaError) throw e;
          throw new NablaError(`device ${b.device} failed: ${(e as Error).message}`, { op: 'synchronize', cause: e });
        }),
      ),
    );
    await Promise.all([...transfers, ...this.transfers]);
  }

  // ---- memory

  memory(): MemoryInfo {
    return this.memoryTracker.snapshot(this.backends.all());
  }

  resetPeakMemory(): void {
    this.memoryTracker.resetPeak();
  }
}
