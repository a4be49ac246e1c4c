/** The GLSL text generated from expressions (no GL context needed). */
import type { Expr } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { compileExpr, floatLiteral } from './expr.js';
import { HELPER_NAMES, helperSource } from './math.js';

const x: Expr = { op: 'input', index: 0 };

describe('GLSL from expressions', () => {
  it('writes float literals GLSL ES 1.00 accepts, non-finite ones through run-time helpers', () => {
    const h = new Set<string>();
    expect(floatLiteral(2, h)).toBe('2.0');
    expect(floatLiteral(-0.5, h)).toBe('(-0.5)');
    expect(floatLiteral(1e-7, h)).toMatch(/^1\.0+\d*e-7$/);
    expect(floatLiteral(NaN, h)).toBe('nb_nan()');
    expect(floatLiteral(-Infinity, h)).toBe('(-nb_inf())');
    expect([...h].sort()).toEqual(['nb_inf', 'nb_nan']);
  });

  it('evaluates a shared node once and converts to the output dtype', () => {
    const s: Expr = { op: 'sigmoid', a: x };
    const e: Expr = { op: 'mul', a: s, b: { op: 'sub', a: { op: 'const', value: 1 }, b: s } };
    const f = compileExpr(e, 1, 0, 'int32');
    expect(f.args).toEqual(['v0', 'z']);
    expect(f.source.match(/nb_sigmoid\(v0\)/g)).toHaveLength(1);
    expect(f.source).toContain('return nb_f2i(');
    expect(compileExpr(x, 1, 0, 'bool').source).toContain('return nb_f2b(v0)');
  });

  it('names parameters and checks input indices', () => {
    const f = compileExpr({ op: 'add', a: x, b: { op: 'param', index: 1 } }, 1, 2, 'float32');
    expect(f.args).toEqual(['v0', 'q0', 'q1', 'z']);
    expect(() => compileExpr({ op: 'input', index: 2 }, 1, 0, 'float32')).toThrow(/reads input 2 of 1/);
  });

  it('emits every helper with its dependencies first, each once', () => {
    const src = helperSource(HELPER_NAMES);
    for (const n of HELPER_NAMES) {
      const def = new RegExp(`(float|bool|vec2) ${n}( =|\\()`);
      expect(src, n).toMatch(def);
    }
    const pow = helperSource(['nb_pow']);
    expect(pow.indexOf('bool nb_isnan')).toBeLessThan(pow.indexOf('float nb_pow'));
    expect(pow.match(/bool nb_isnan/g)).toHaveLength(1);
  });
});
