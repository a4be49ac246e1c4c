/**
 * `nn.save` / `nn.load`: state dicts in and out of the safetensors format, the format PyTorch users
 * share weights in, so weights trained in PyTorch load into Nabla and back.
 */
import { defaultRuntime, encodeHalf, isHalfDType, NablaError, Tensor, type Runtime, type TypedArray } from '@nabla/core';
import type { StateDict } from '../module.js';
import { decodeSafetensors, encodeSafetensors, type HostTensor } from './safetensors.js';

export interface SaveOptions {
  /** Also write the bytes to this file (Node only). */
  path?: string | null;
  /** The header's `__metadata__` (string values only). */
  metadata?: Record<string, string> | null;
}

export interface LoadOptions {
  /** The runtime to make the tensors in (default: `defaultRuntime()`). */
  runtime?: Runtime | null;
  /** Their device (default: the runtime's default device). */
  device?: string | null;
}

/**
 * The state dict as safetensors bytes; with a path (or `{ path }`), also written to that file
 * (Node). Asynchronous because tensors on a GPU are read back asynchronously.
 *
 * @example
 * const bytes = await nn.save(model.stateDict());
 * await nn.save(model.stateDict(), 'model.safetensors');
 */
export async function save(stateDict: StateDict | Map<string, Tensor>, pathOrOptions?: string | SaveOptions | null): Promise<Uint8Array> {
  const opts: SaveOptions = typeof pathOrOptions === 'string' ? { path: pathOrOptions } : (pathOrOptions ?? {});
  const entries = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict ?? {});
  const host = new Map<string, HostTensor>();
  for (const [name, t] of entries) {
    if (!(t instanceof Tensor)) throw new NablaError(`stateDict['${name}'] is not a Tensor (${t === null ? 'null' : typeof t})`, { op: 'save' });
    const c = t.contiguous();
    const values = (await c.data()) as TypedArray;
    if (c !== t) c.dispose();
    // data() gives 16-bit floats as their (exact) float32 values; the file holds their bits.
    const data = isHalfDType(t.dtype) ? encodeHalf(t.dtype, values) : values;
    host.set(name, { dtype: t.dtype, shape: [...t.shape], data });
  }
  const bytes = encodeSafetensors(host, opts.metadata);
  if (opts.path) {
    const fs = await nodeFs('save');
    await fs.writeFile(opts.path, bytes);
  }
  return bytes;
}

/**
 * A state dict from safetensors bytes or a file path (Node). F32, F64, F16, BF16, I32 and BOOL load
 * as they are (F16/BF16 as float16/bfloat16 tensors); I8/I16/U8 and I64 (PyTorch's counters) as int32.
 *
 * @example
 * model.loadStateDict(await nn.load('model.safetensors'));
 */
export async function load(pathOrBytes: string | Uint8Array, opts: LoadOptions = {}): Promise<StateDict> {
  let bytes: Uint8Array;
  if (typeof pathOrBytes === 'string') {
    const fs = await nodeFs('load');
    try {
      bytes = new Uint8Array(await fs.readFile(pathOrBytes));
    } catch (e) {
      throw new NablaError(`cannot read '${pathOrBytes}': ${(e as Error).message}`, { op: 'load', cause: e });
    }
  } else bytes = pathOrBytes;
  return loadBytes(bytes, opts);
}

/** `load` for bytes already in memory, synchronously. */
export function loadBytes(bytes: Uint8Array, opts: LoadOptions = {}): StateDict {
  const { tensors } = decodeSafetensors(bytes);
  const rt = opts.runtime ?? defaultRuntime();
  const device = opts.device ?? rt.defaultDevice;
  const out: StateDict = {};
  for (const [name, t] of tensors) out[name] = rt.tensor(t.data, { shape: t.shape, dtype: t.dtype, device });
  return out;
}

async function nodeFs(op: string): Promise<typeof import('node:fs/promises')> {
  try {
    return await import('node:fs/promises');
  } catch (e) {
    throw new NablaError('file paths need Node (node:fs); pass or take the bytes instead', { op, cause: e });
  }
}
