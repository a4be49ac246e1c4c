/**
 * The safetensors format (https://huggingface.co/docs/safetensors), as bytes: an 8-byte
 * little-endian header length, a JSON header `{ name: { dtype, shape, data_offsets: [begin, end] },
 * __metadata__?: { string: string } }`, then the tensors' raw little-endian data, offsets relative
 * to the end of the header. Pure functions over host arrays; `save-load.ts` moves tensors.
 */
import { NablaError, isHalfDType, type DType, type TypedArray } from '@nabla/core';

/** A tensor's host values as the format holds them. */
export interface HostTensor {
  dtype: DType;
  shape: number[];
  data: TypedArray;
}

const OP_READ = 'load';
const OP_WRITE = 'save';

/** File dtype → bytes per element and how to read it into one of Nabla's dtypes. */
const READERS: Record<string, { size: number; dtype: DType; read: (v: DataView, at: number) => number }> = {
  F64: { size: 8, dtype: 'float64', read: (v, at) => v.getFloat64(at, true) },
  F32: { size: 4, dtype: 'float32', read: (v, at) => v.getFloat32(at, true) },
  // 16-bit floats stay 16-bit: their bit patterns, as core's float16/bfloat16 tensors take them.
  F16: { size: 2, dtype: 'float16', read: (v, at) => v.getUint16(at, true) },
  BF16: { size: 2, dtype: 'bfloat16', read: (v, at) => v.getUint16(at, true) },
  I32: { size: 4, dtype: 'int32', read: (v, at) => v.getInt32(at, true) },
  I16: { size: 2, dtype: 'int32', read: (v, at) => v.getInt16(at, true) },
  I8: { size: 1, dtype: 'int32', read: (v, at) => v.getInt8(at) },
  U8: { size: 1, dtype: 'int32', read: (v, at) => v.getUint8(at) },
  // PyTorch's int64 (num_batches_tracked, indices): read into int32 when the value fits.
  I64: { size: 8, dtype: 'int32', read: (v, at) => Number(v.getBigInt64(at, true)) },
  BOOL: { size: 1, dtype: 'bool', read: (v, at) => (v.getUint8(at) !== 0 ? 1 : 0) },
};

/** float16/bfloat16 host data is their bit patterns (a Uint16Array), as `encodeHalf` gives them. */
const WRITE_CODE: Partial<Record<DType, string>> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL', float16: 'F16', bfloat16: 'BF16' };

function corrupt(what: string): NablaError {
  return new NablaError(`not a valid safetensors file: ${what}`, { op: OP_READ });
}

/**
 * Encodes tensors (by name) as safetensors bytes: names sorted, data packed in that order, the
 * header padded with spaces to a multiple of 8 bytes (as the reference writer does).
 */
export function encodeSafetensors(tensors: ReadonlyMap<string, HostTensor>, metadata?: Readonly<Record<string, string>> | null): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new NablaError("a tensor cannot be named '__metadata__' (the format reserves it)", { op: OP_WRITE });
    const t = tensors.get(name)!;
    const code = WRITE_CODE[t.dtype];
    if (code === undefined) throw new NablaError(`tensor '${name}' has dtype ${String(t.dtype)}, which safetensors cannot hold here`, { op: OP_WRITE });
    const bytes = t.data.length * (t.dtype === 'bool' ? 1 : t.data.BYTES_PER_ELEMENT);
    header[name] = { dtype: code, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new NablaError(`__metadata__ values must be strings, got ${typeof v} for '${k}'`, { op: OP_WRITE });
    }
    header.__metadata__ = metadata;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    if (t.dtype === 'bool') {
      for (let i = 0; i < t.data.length; i++) out[at + i] = t.data[i] ? 1 : 0;
      at += t.data.length;
      continue;
    }
    // Typed arrays are in the platform's order: write element by element, little-endian.
    const write = t.dtype === 'float64' ? view.setFloat64 : t.dtype === 'float32' ? view.setFloat32 : isHalfDType(t.dtype) ? view.setUint16 : view.setInt32;
    const size = t.data.BYTES_PER_ELEMENT;
    for (let i = 0; i < t.data.length; i++, at += size) write.call(view, at, t.data[i]!, true);
  }
  return out;
}

export interface DecodedSafetensors {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string> | null;
}

/** Decodes safetensors bytes, checking the header against the data (NablaError on anything off). */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) throw new NablaError(`expected the file's bytes as a Uint8Array, got ${typeof bytes}`, { op: OP_READ });
  if (bytes.length < 8) throw corrupt(`${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8)) throw corrupt(`the header claims ${n} bytes but only ${bytes.length - 8} follow`);
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new NablaError(`not a valid safetensors file: the header is not JSON (${(e as Error).message})`, { op: OP_READ, cause: e });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw corrupt('the header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  let metadata: Record<string, string> | null = null;
  const spans: [number, number, string][] = [];
  const tensors = new Map<string, HostTensor>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry) || Object.values(entry).some((v) => typeof v !== 'string')) {
        throw corrupt('__metadata__ must map strings to strings');
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') throw corrupt(`entry '${name}' is not an object`);
    if (typeof e.dtype !== 'string') throw corrupt(`entry '${name}' has no dtype`);
    const reader = READERS[e.dtype];
    if (!reader) {
      throw new NablaError(
        `tensor '${name}' has dtype ${e.dtype}, which Nabla does not read (supported: ${Object.keys(READERS).join(', ')})`,
        { op: OP_READ },
      );
    }
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw corrupt(`entry '${name}' has an invalid shape ${JSON.stringify(e.shape)}`);
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isInteger(o) && o >= 0) || offs[0] > offs[1]) {
      throw corrupt(`entry '${name}' has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataLen) throw corrupt(`tensor '${name}' ends at byte ${end} of the data, which has ${dataLen}`);
    const shape = e.shape as number[];
    const numel = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== numel * reader.size) {
      throw corrupt(`tensor '${name}' (${e.dtype}, shape [${shape.join(', ')}]) needs ${numel * reader.size} bytes but data_offsets span ${end - begin}`);
    }
    spans.push([begin, end, name]);
    const data = allocate(reader.dtype, numel);
    const at0 = dataStart + begin;
    for (let i = 0; i < numel; i++) {
      const v = reader.read(view, at0 + i * reader.size);
      if (e.dtype === 'I64' && (v > 2147483647 || v < -2147483648)) {
        throw new NablaError(`tensor '${name}' (I64) holds ${v}, beyond int32, Nabla's integer dtype`, { op: OP_READ });
      }
      data[i] = v;
    }
    tensors.set(name, { dtype: reader.dtype, shape, data });
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin < covered) throw corrupt(`the data of '${name}' (bytes ${begin}..${end}) overlaps another tensor's`);
    if (begin > covered) throw corrupt(`bytes ${covered}..${begin} of the data belong to no tensor`);
    covered = end;
  }
  if (covered !== dataLen) throw corrupt(`bytes ${covered}..${dataLen} of the data belong to no tensor`);
  return { tensors, metadata };
}

function allocate(dtype: DType, n: number): TypedArray {
  if (dtype === 'float64') return new Float64Array(n);
  if (dtype === 'float32') return new Float32Array(n);
  if (dtype === 'int32') return new Int32Array(n);
  if (isHalfDType(dtype)) return new Uint16Array(n);
  return new Uint8Array(n);
}
