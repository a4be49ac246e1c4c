/**
 * Dense copy of a strided view into a buffer, as raw 32-bit words (every dtype is one word), for
 * reads of non-contiguous views and for kernels that need an input apart from their output.
 */
import type { View } from '@nabla/core';
import type { KernelContext } from '../context.js';
import { collapse, numelOf } from '../geometry.js';
import { entry1d, groupsFor, META_DECL, offsetWalk } from '../wgsl/common.js';

const SOURCE = `// strided copy (u32 words)
${META_DECL}
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<storage, read> src: array<u32>;
${entry1d(`  if (gid >= args[0]) { return; }
${offsetWalk('gid', 'args[1]', '4u', [{ name: 'so', init: 'args[2]', stridesAt: '4u + args[1]' }])}
  dst[args[3] + gid] = src[so];`)}`;

/** Records dst[dstOffset + i] = view[i] (row-major) for every element of `view`. */
export function copyToDense(ctx: KernelContext, src: GPUBuffer, view: Pick<View, 'shape' | 'strides' | 'offset'>, dst: GPUBuffer, dstOffset = 0): void {
  const n = numelOf(view.shape);
  if (n === 0) return;
  const g = collapse(view.shape, [view.strides]);
  const kernel = ctx.dispatcher.kernel('copy', 'strided copy', SOURCE, ['write', 'read']);
  const meta = [n, g.shape.length, view.offset, dstOffset, ...g.shape, ...g.strides[0]!];
  ctx.dispatcher.dispatch(kernel, meta, [dst, src], groupsFor(n));
}
