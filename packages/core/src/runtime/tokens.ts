/**
 * The named dependency-injection tokens of a runtime: the documented way for a plugin to reach a
 * runtime's services, instead of the tsyringe container behind them (`ctx.runtime.container`, an
 * implementation detail). Each runtime registers its own instance under every token, so a plugin
 * installed in two runtimes resolves two sets of services.
 *
 * @example
 * const plugin: Plugin = {
 *   name: 'kernel-log',
 *   version: '1.0.0',
 *   install(ctx) {
 *     const events = ctx.resolve(EVENTS);
 *     events.on('kernel:register', (e) => console.log(e.kernel, e.device));
 *     console.log(ctx.resolve(BACKEND_REGISTRY).devices()); // e.g. ['cpu']
 *   },
 * };
 */
import type { EventBus } from './events.js';
import type { GradMode } from './grad-mode.js';
import type { MemoryTracker } from './memory.js';
import type { BackendRegistry, KernelRegistry } from './registries.js';
import type { Rng } from './rng.js';
import type { Runtime } from './runtime.js';

/**
 * A typed key for one service of a runtime: `ctx.resolve(token)` (in a plugin's `install`) or
 * `runtime.resolve(token)` returns the service of type `T`. At run time a token is a `symbol`.
 */
export type Token<T> = symbol & { readonly __service?: T };

const token = <T>(name: string): Token<T> => Symbol(`nabla:${name}`) as Token<T>;

/** The runtime itself: what `createRuntime()` returned, or the default runtime. */
export const RUNTIME: Token<Runtime> = token('runtime');
/** Devices by name: `get(device)`, `devices()`, `all()` (the registered `Backend` objects). */
export const BACKEND_REGISTRY: Token<BackendRegistry> = token('backends');
/** Structured and elementwise kernels by (name, device, dtype): `has(name, device, dtype)`, `get(...)`. */
export const KERNEL_REGISTRY: Token<KernelRegistry> = token('kernels');
/** The runtime's lifecycle events (`NablaEvents`): `on`, `once`, `off`. The same bus as `ctx.events`. */
export const EVENTS: Token<EventBus> = token('events');
/** The runtime's grad mode (what `noGrad` / `enableGrad` / `inferenceMode` switch). */
export const GRAD_MODE: Token<GradMode> = token('grad-mode');
/** Memory accounting per device: what `memory()` reports. */
export const MEMORY: Token<MemoryTracker> = token('memory');
/** The runtime's random number generator (what `manualSeed` seeds). */
export const RNG: Token<Rng> = token('rng');
