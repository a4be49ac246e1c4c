/**
 * WGSL snippets shared by the kernels: the meta binding, the linear invocation id of a 1-D
 * kernel dispatched as a 2-D grid, and the strided offset walk.
 *
 * Geometry travels in the meta words (binding 0, `array<u32>`), so one compiled pipeline serves
 * every shape, stride and rank: a kernel reads `rank`, then `shape[rank]` and one
 * `strides[rank]` per operand, from positions it is told.
 */
import { WORKGROUP } from '../dispatcher.js';

export const META_DECL = "@group(0) @binding(0) var<storage, read> args: array<u32>;";

/** The entry point of a 1-D kernel; the body sees `gid` (linear id), `lid` and `group`. */
export function entry1d(body: string, workgroup = WORKGROUP): string {
  return `@compute @workgroup_size(${workgroup})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let group = wid.y * nwg.x + wid.x;
  let gid = group * ${workgroup}u + lid;
${body}
}`;
}

/**
 * The entry point of a kernel that gives each workgroup one row (reductions and softmax over long
 * rows): `row` is the workgroup's row in a 2-D grid, `live` whether it is a real one (args[0] is
 * the number of rows), `lid` the invocation within the workgroup.
 */
export function entryPerRow(body: string): string {
  return `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  let live = row < args[0];
${body}
}`;
}

/** An operand of `offsetWalk`: its offset variable, its start value and where its strides are. */
export interface WalkOperand {
  readonly name: string;
  /** WGSL expression of the offset at index 0 (usually a meta word). */
  readonly init: string;
  /** WGSL expression of the meta position of this operand's stride of dim 0. */
  readonly stridesAt: string;
}

/**
 * Statements that turn the linear index `index` (row-major over a shape) into one offset per
 * operand: `var <name> = <init>` plus Σ coordinate · stride, walking dims from the innermost.
 * `rank` is a WGSL expression and `shapeAt` the meta position of shape[0].
 */
export function offsetWalk(index: string, rank: string, shapeAt: string, operands: readonly WalkOperand[], tag = 'w'): string {
  const lines: string[] = [];
  for (const o of operands) lines.push(`  var ${o.name} = ${o.init};`);
  lines.push(`  var ${tag}_rem = ${index};`);
  lines.push(`  for (var ${tag}_d = i32(${rank}) - 1; ${tag}_d >= 0; ${tag}_d = ${tag}_d - 1) {`);
  lines.push(`    let ${tag}_u = u32(${tag}_d);`);
  lines.push(`    let ${tag}_n = args[${shapeAt} + ${tag}_u];`);
  lines.push(`    let ${tag}_c = ${tag}_rem % ${tag}_n;`);
  lines.push(`    ${tag}_rem = ${tag}_rem / ${tag}_n;`);
  for (const o of operands) lines.push(`    ${o.name} = ${o.name} + ${tag}_c * args[${o.stridesAt} + ${tag}_u];`);
  lines.push('  }');
  return lines.join('\n');
}

/** Host side of `offsetWalk`: shape then each operand's strides. */
export function geometryWords(shape: readonly number[], strides: readonly (readonly number[])[]): number[] {
  const w = shape.slice();
  for (const s of strides) w.push(...s);
  return w;
}

export function groupsFor(n: number, perGroup = WORKGROUP): number {
  return Math.ceil(n / perGroup);
}
