import { describe, expect, it } from 'vitest';
import { ByteWriter, ModuleBuilder, ValType } from './emitter.js';
import { hasWasmSimd } from './heap.js';
import { V } from './vmath.js';

describe('wasm emitter', () => {
  it('encodes LEB128 as the spec does', () => {
    const u = (v: number) => Array.from(new ByteWriter().u32(v).view());
    const s = (v: number) => Array.from(new ByteWriter().i32(v).view());
    expect(u(0)).toEqual([0]);
    expect(u(127)).toEqual([0x7f]);
    expect(u(128)).toEqual([0x80, 0x01]);
    expect(u(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(s(-1)).toEqual([0x7f]);
    expect(s(63)).toEqual([0x3f]);
    expect(s(64)).toEqual([0xc0, 0x00]);
    expect(s(-64)).toEqual([0x40]);
    expect(s(-65)).toEqual([0xbf, 0x7f]);
    expect(s(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });

  it('builds a valid module that runs: a SIMD loop over the imported memory', () => {
    expect(hasWasmSimd()).toBe(true);
    const mod = new ModuleBuilder({ initial: 1 });
    // scale(ptr, n, c): f32 lanes *= c, 4 at a time
    const f = mod.func('scale', [ValType.i32, ValType.i32, ValType.f32]);
    const c = f.local(ValType.v128);
    f.get(2).simd('f32x4.splat').set(c);
    f.loop();
    f.get(0).get(0).vmem('v128.load', 4).get(c).simd('f32x4.mul').vmem('v128.store', 4);
    f.get(0).i32c(16).op('i32.add').set(0);
    f.get(1).i32c(4).op('i32.sub').tee(1).i32c(0).op('i32.gt_s').brIf(0);
    f.end();
    const bytes = mod.encode();
    expect(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env: { memory } });
    const data = new Float32Array(memory.buffer, 0, 8);
    data.set([1, 2, 3, 4, 5, 6, 7, 8]);
    (inst.exports.scale as (p: number, n: number, c: number) => void)(0, 8, 0.5);
    expect(Array.from(data)).toEqual([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
  });

  it('interleaves recorded statements: constants still hoist, each statement lands where it is placed', () => {
    const mod = new ModuleBuilder({ initial: 1 });
    // twice(ptr): two independent vectors (x·3 + 1), their statements recorded, then interleaved
    const f = mod.func('twice', [ValType.i32]);
    const v = new V(f);
    const chain = (offset: number) =>
      v.record(() => {
        const x = v.val(() => f.get(0).vmem('v128.load', 4, offset));
        const y = v.val(() => f.get(x).kf(3).simd('f32x4.mul'));
        return v.val(() => f.get(y).kf(1).simd('f32x4.add'));
      });
    const a = chain(0);
    const b = chain(16);
    expect(a.stmts.length).toBe(3);
    for (let k = 0; k < 3; k++) f.bytes(a.stmts[k]!).bytes(b.stmts[k]!);
    f.get(0).get(a.result).vmem('v128.store', 4, 0);
    f.get(0).get(b.result).vmem('v128.store', 4, 16);
    const bytes = mod.encode();
    expect(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env: { memory } });
    const data = new Float32Array(memory.buffer, 0, 8);
    data.set([0, 1, 2, 3, 4, 5, 6, 7]);
    (inst.exports.twice as (p: number) => void)(0);
    expect(Array.from(data)).toEqual([1, 4, 7, 10, 13, 16, 19, 22]);
  });
});
