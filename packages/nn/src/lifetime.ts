/**
 * Tensor lifetimes inside nn, on core's `tidy` / `keep` / `outsideTidy`:
 *
 * - `scoped(rt, fn)`: one computation (a loss, a layer's forward) frees the temporaries it made and
 *   keeps what it returns (core's `tidy`; a temporary a graph saved for backward keeps its storage
 *   until that graph lets go of it).
 * - `untracked(rt, fn)`: what `fn` makes belongs to no enclosing `tidy` (parameters, optimizer
 *   state, caches outlive the step that happened to create them).
 * - `pin(t)`: no `tidy` may dispose `t` (module parameters and buffers).
 */
import type { Runtime, Tensor } from '@nabla/core';

export function scoped<T>(rt: Runtime, fn: () => T): T {
  return rt.tidy(fn);
}

export function untracked<T>(rt: Runtime, fn: () => T): T {
  return rt.outsideTidy(fn);
}

export function pin<T extends Tensor>(t: T): T {
  return t.rt.keep(t);
}
