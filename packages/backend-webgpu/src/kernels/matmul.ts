/**
 * Batched matrix product out[b] = a[b] · b[b] for any strides (a stride of 0 on the batch dim
 * broadcasts an operand; transposes are just other strides).
 *
 * Classic shared-memory tiling: a workgroup of 16×16 invocations computes a 64×64 tile of the
 * output, each invocation a 4×4 block held in registers (rows ty + 16·r, columns tx + 16·c, so
 * neighbouring invocations store neighbouring elements). The K dimension is walked in steps of
 * 16: the workgroup stages a 64×16 slab of A and a 16×64 slab of B in workgroup memory (each
 * invocation loading 4 elements of each, zero-filled outside the matrices), synchronises, and
 * accumulates 16 rank-1 updates. Edges of any M, N, K need no special path: padding is zeros and
 * stores are bounds-checked. Batches go in the grid's z dimension (chunks of the per-dim limit).
 * float32 accumulates in f32; int32 in i32 with wrap-around, which equals the exact product
 * reduced to int32. float16 on a device with `shader-f16` (`native16`): the operands are bound as
 * `array<f16>`, widened exactly into the f32 tiles, accumulated in f32 and rounded once on the
 * store, as PyTorch's half matmul (f32 accumulation) does.
 */
import { checkAddmmViews, checkBmmShapes, type View } from '@nabla/core';
import type { KernelContext } from '../context.js';
import { META_DECL } from '../wgsl/common.js';

const TILE = 64;
const TK = 16;

/**
 * With `epilogue` (addmm), each sum is stored as alpha · sum + beta · bias[row, col]: the bias is
 * read once per output element in the store, never in the K loop (beta = 0 skips the read).
 */
function matmulSource(t: 'f32' | 'i32', epilogue = false, native16 = false): string {
  const zero = t === 'f32' ? '0.0' : '0';
  // Storage type, and the loads into / store out of the compute type t.
  const st = native16 ? 'f16' : t;
  const load = (x: string): string => (native16 ? `f32(${x})` : x);
  const store = (x: string): string => (native16 ? `f16(${x})` : x);
  const accs: string[] = [];
  const fmas: string[] = [];
  const stores: string[] = [];
  for (let r = 0; r < 4; r++) {
    for (let c = 0; c < 4; c++) {
      accs.push(`  var c${r}${c}: ${t} = ${zero};`);
      fmas.push(`      c${r}${c} = c${r}${c} + a${r} * b${c};`);
      const rr = `row0 + ${16 * r}u`;
      const cc = `col0 + ${16 * c}u`;
      const value = epilogue ? `epi(c${r}${c}, ${rr}, ${cc})` : `c${r}${c}`;
      stores.push(`  if (${rr} < M && ${cc} < N) { out[ob + (${rr}) * os1 + (${cc}) * os2] = ${store(value)}; }`);
    }
  }
  const epi = epilogue
    ? `@group(0) @binding(4) var<storage, read> bias: array<${st}>;
fn epi(v: ${t}, row: u32, col: u32) -> ${t} {
  let beta = bitcast<${t}>(args[19]);
  let alpha = bitcast<${t}>(args[20]);
  if (beta == ${zero}) { return alpha * v; }
  return alpha * v + beta * ${load('bias[args[16] + row * args[17] + col * args[18]]')};
}
`
    : '';
  return `${native16 ? 'enable f16;\n' : ''}// ${epilogue ? 'addmm' : 'bmm'} (${st}${native16 ? ', f32 accumulation' : ''}): 64x64 output tiles, 16x16 invocations with 4x4 blocks, K steps of ${TK}
${META_DECL}
@group(0) @binding(1) var<storage, read_write> out: array<${st}>;
@group(0) @binding(2) var<storage, read> A: array<${st}>;
@group(0) @binding(3) var<storage, read> B: array<${st}>;
${epi}var<workgroup> As: array<${t}, ${TK * TILE}>;
var<workgroup> Bs: array<${t}, ${TK * TILE}>;
@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let M = args[0];
  let N = args[1];
  let K = args[2];
  let batch = wid.z + args[3];
  let ab = args[4] + batch * args[5];
  let as1 = args[6];
  let as2 = args[7];
  let bb = args[8] + batch * args[9];
  let bs1 = args[10];
  let bs2 = args[11];
  let ob = args[12] + batch * args[13];
  let os1 = args[14];
  let os2 = args[15];
  let tileRow = wid.y * ${TILE}u;
  let tileCol = wid.x * ${TILE}u;
  let row0 = tileRow + l.y;
  let col0 = tileCol + l.x;
${accs.join('\n')}
  for (var k0 = 0u; k0 < K; k0 = k0 + ${TK}u) {
    for (var part = 0u; part < 4u; part = part + 1u) {
      let e = lid + part * 256u;
      let am = e / ${TK}u;
      let ak = e % ${TK}u;
      var av: ${t} = ${zero};
      if (tileRow + am < M && k0 + ak < K) { av = ${load('A[ab + (tileRow + am) * as1 + (k0 + ak) * as2]')}; }
      As[ak * ${TILE}u + am] = av;
      let bk = e / ${TILE}u;
      let bn = e % ${TILE}u;
      var bv: ${t} = ${zero};
      if (k0 + bk < K && tileCol + bn < N) { bv = ${load('B[bb + (k0 + bk) * bs1 + (tileCol + bn) * bs2]')}; }
      Bs[bk * ${TILE}u + bn] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk = kk + 1u) {
      let ar = kk * ${TILE}u + l.y;
      let a0 = As[ar];
      let a1 = As[ar + 16u];
      let a2 = As[ar + 32u];
      let a3 = As[ar + 48u];
      let br = kk * ${TILE}u + l.x;
      let b0 = Bs[br];
      let b1 = Bs[br + 16u];
      let b2 = Bs[br + 32u];
      let b3 = Bs[br + 48u];
${fmas.join('\n')}
    }
    workgroupBarrier();
  }
${stores.join('\n')}
}`;
}

/** float16 is accepted only with `native16` (the device has `shader-f16`). */
function typeOf(op: string, dtype: string, native16: boolean): 'f32' | 'i32' {
  if (dtype === 'float32' || (dtype === 'float16' && native16)) return 'f32';
  if (dtype === 'int32') return 'i32';
  throw new Error(`${op}: unsupported dtype ${dtype}`);
}

export function bmm(ctx: KernelContext, out: View, a: View, b: View, native16 = false): void {
  checkBmmShapes(out, a, b);
  if (out.dtype !== a.dtype || b.dtype !== a.dtype) throw new Error(`bmm: dtypes must match, got ${a.dtype}, ${b.dtype} -> ${out.dtype}`);
  const t = typeOf('bmm', a.dtype, native16);
  const h = a.dtype === 'float16';
  const [nb, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const os = ctx.storage('bmm', 'out', out);
  if (nb === 0 || M === 0 || N === 0) return;
  const d = ctx.dispatcher;
  const gx = Math.ceil(N / TILE);
  const gy = Math.ceil(M / TILE);
  if (gx > d.maxGroupsPerDim || gy > d.maxGroupsPerDim) throw new Error(`bmm: ${M}x${N} output is too large for one dispatch`);
  ctx.apart('bmm', a, out, (aBuf, av) =>
    ctx.apart('bmm', b, out, (bBuf, bv) => {
      const kernel = d.kernel(`bmm:${h ? 'f16' : t}`, `bmm (${a.dtype})`, () => matmulSource(t, false, h), ['write', 'read', 'read']);
      for (let start = 0; start < nb; start += d.maxGroupsPerDim) {
        const count = Math.min(d.maxGroupsPerDim, nb - start);
        const meta = [
          M, N, K, start,
          av.offset, av.strides[0]!, av.strides[1]!, av.strides[2]!,
          bv.offset, bv.strides[0]!, bv.strides[1]!, bv.strides[2]!,
          out.offset, out.strides[0]!, out.strides[1]!, out.strides[2]!,
        ];
        d.dispatch(kernel, meta, [os.buffer, aBuf, bBuf], [gx, gy, count]);
      }
    }),
  );
}

/** The 32 bits of `x` as the kernel's `t` holds it (meta words are u32; the kernel bitcasts). */
function bitsOf(x: number, t: 'f32' | 'i32'): number {
  if (t === 'i32') return (x | 0) >>> 0;
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}

/** out [M, N] = beta · bias + alpha · (a [M, K] · b [K, N]): bmm's tiles with the bias added in the store. */
export function addmm(ctx: KernelContext, out: View, bias: View, a: View, b: View, beta: number, alpha: number, native16 = false): void {
  checkAddmmViews(out, bias, a, b);
  const t = typeOf('addmm', a.dtype, native16);
  const h = a.dtype === 'float16';
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1]!;
  const os = ctx.storage('addmm', 'out', out);
  if (M === 0 || N === 0) return;
  const d = ctx.dispatcher;
  const gx = Math.ceil(N / TILE);
  const gy = Math.ceil(M / TILE);
  if (gx > d.maxGroupsPerDim || gy > d.maxGroupsPerDim) throw new Error(`addmm: ${M}x${N} output is too large for one dispatch`);
  ctx.apart('addmm', a, out, (aBuf, av) =>
    ctx.apart('addmm', b, out, (bBuf, bv) =>
      ctx.apart('addmm', bias, out, (cBuf, cv) => {
        const kernel = d.kernel(`addmm:${h ? 'f16' : t}`, `addmm (${a.dtype})`, () => matmulSource(t, true, h), ['write', 'read', 'read', 'read']);
        const meta = [
          M, N, K, 0,
          av.offset, 0, av.strides[0]!, av.strides[1]!,
          bv.offset, 0, bv.strides[0]!, bv.strides[1]!,
          out.offset, 0, out.strides[0]!, out.strides[1]!,
          cv.offset, cv.strides[0]!, cv.strides[1]!, bitsOf(beta, t), bitsOf(alpha, t),
        ];
        d.dispatch(kernel, meta, [os.buffer, aBuf, bBuf, cBuf], [gx, gy, 1]);
      }),
    ),
  );
}
