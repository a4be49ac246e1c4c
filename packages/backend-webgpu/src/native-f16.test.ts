/**
 * Which float16 ops get f16 arithmetic (native-f16.ts) and what their shaders declare: pure code
 * generation, no adapter needed (the GPU runs are in test/half-native.test.ts).
 */
import { expr as E, type DType, type ElementwiseSpec, type Expr } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { elementwiseSource, generateBody } from './compile-elementwise.js';
import { exactF16Literal, f16Root, nativeF16Spec } from './native-f16.js';

const x0 = E.input(0);
const x1 = E.input(1);
const spec = (expr: Expr, inputDtypes: DType[], outDtype: DType = 'float16', computeDtype: DType = outDtype, numParams = 0): ElementwiseSpec => ({
  name: 'op',
  expr,
  inputDtypes,
  outDtype,
  computeDtype,
  numParams,
  key: 'k',
});

describe('native f16 code generation', () => {
  it('float16 holds a literal exactly or not at all', () => {
    expect(exactF16Literal(1)).toBe('1.0h');
    expect(exactF16Literal(-2.5)).toBe('-2.5h');
    expect(exactF16Literal(65504)).toBe('65504.0h');
    expect(exactF16Literal(2 ** -24)).toBe(`${2 ** -24}h`);
    for (const v of [0.1, 1 / 3, 65505, 2 ** -25, 1 + 2 ** -11, NaN, Infinity, -0]) expect(exactF16Literal(v), String(v)).toBeNull();
  });

  it('computes one IEEE operation on float16 tensors in f16, and everything else in f32', () => {
    const h: DType[] = ['float16', 'float16'];
    expect(f16Root(spec(E.add(x0, x1), h))?.code).toBe('(h0 + h1)');
    expect(f16Root(spec(E.mul(x0, E.c(2)), ['float16']))?.code).toBe('(h0 * 2.0h)');
    expect(f16Root(spec(E.neg(x0), ['float16']))?.code).toBe('(-h0)');
    expect(f16Root(spec({ op: 'where', cond: x0, a: x1, b: E.input(2) } as Expr, ['bool', 'float16', 'float16']))?.code).toBe('select(h2, h1, (c0 != 0u))');
    // Division is not correctly rounded in WGSL; formulas would round between steps; 0.1 is not a
    // float16; a float32 operand or output computes in f32.
    expect(f16Root(spec(E.div(x0, x1), h))).toBeNull();
    expect(f16Root(spec(E.mul(x0, E.sub(E.c(1), x1)), h))).toBeNull();
    expect(f16Root(spec(E.exp(x0), ['float16']))).toBeNull();
    expect(f16Root(spec(E.mul(x0, E.c(0.1)), ['float16']))).toBeNull();
    expect(f16Root(spec(E.mul(x0, E.param(0)), ['float16'], 'float16', 'float16', 1))).toBeNull();
    expect(f16Root(spec(E.add(x0, x1), ['float16', 'float32'], 'float32'))).toBeNull();
  });

  it('binds float16 as array<f16> and starts with `enable f16`', () => {
    const s = spec(E.add(x0, x1), ['float16', 'float16']);
    const src = elementwiseSource(s, generateBody(s.expr, 'float'), { flat: true, scalarMask: 0, aliasMask: 0 }, true);
    expect(src.startsWith('enable f16;\n')).toBe(true);
    expect(src).toMatch(/var<storage, read_write> out: array<f16>/);
    expect(src).toMatch(/out\[oo\] = \(h0 \+ h1\);/);
    const e = spec(E.exp(x0), ['float16'], 'float32');
    const src2 = elementwiseSource(e, generateBody(e.expr, 'float'), { flat: true, scalarMask: 0, aliasMask: 0 }, true);
    expect(src2).toMatch(/let x0 = f32\(in0\[o0\]\);/);
    expect(src2).toMatch(/var<storage, read_write> out: array<f32>/);
    const r = spec(E.exp(x0), ['float16']);
    expect(elementwiseSource(r, generateBody(r.expr, 'float'), { flat: true, scalarMask: 0, aliasMask: 0 }, true)).toMatch(/out\[oo\] = f16\(t0\);/);
  });

  it('leaves bfloat16 (and anything without float16) to the packed path', () => {
    expect(nativeF16Spec(spec(E.add(x0, x1), ['float16', 'float16']))).toBe(true);
    expect(nativeF16Spec(spec(E.add(x0, x1), ['float16', 'bfloat16'], 'float32'))).toBe(false);
    expect(nativeF16Spec(spec(E.add(x0, x1), ['bfloat16', 'bfloat16'], 'bfloat16'))).toBe(false);
    expect(nativeF16Spec(spec(E.add(x0, x1), ['float32', 'float32'], 'float32'))).toBe(false);
  });
});
