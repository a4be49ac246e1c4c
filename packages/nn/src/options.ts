/**
 * Where a layer makes its parameters. Layers never assume the default runtime: they take
 * `{ runtime, device, dtype }` and fall back to the default runtime, its default device and float32.
 */
import { defaultRuntime, type DType, type Runtime } from '@nabla/core';

export interface FactoryOptions {
  /** The runtime that holds the parameters (default: `defaultRuntime()`). */
  runtime?: Runtime | null;
  /** Device name (default: the runtime's default device). */
  device?: string | null;
  /** Floating dtype of the parameters (default: float32). */
  dtype?: DType | null;
}

export interface Placement {
  rt: Runtime;
  device: string;
  dtype: DType;
}

export function placement(opts: FactoryOptions | null | undefined): Placement {
  const rt = opts?.runtime ?? defaultRuntime();
  return { rt, device: opts?.device ?? rt.defaultDevice, dtype: opts?.dtype ?? 'float32' };
}
