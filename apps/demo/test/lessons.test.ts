/**
 * The web course's lesson modules in Node on the CPU backend (the browser tests run them in
 * Chromium): the expression parser, the graph explorer against PyTorch 1.13's numbers, and the
 * memory lab's measurements.
 */
import { readFileSync } from 'node:fs';
import * as nabla from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { activations } from '@nabla/activations';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseValues, variables } from '../web/src/lessons/expression.js';
import { attachHook, build, recordBackward, toScalar } from '../web/src/lessons/graph-explorer.js';
import { deepModel, findAutocast, measure } from '../web/src/lessons/memory.js';
import { wantsWeb } from '../src/web-server.js';

interface GraphCase {
  expr: string;
  values: Record<string, number | number[]>;
  out: number | number[];
  grads: Record<string, number | number[]>;
  nodes: string[];
}
const CASES = JSON.parse(readFileSync(new URL('./fixtures/graph-explorer.json', import.meta.url), 'utf8')) as GraphCase[];

beforeAll(async () => {
  if (!nabla.defaultRuntime().backends.get('cpu')) await nabla.use(cpuBackend());
  await nabla.use(activations());
});

describe('the expression parser', () => {
  it('parses with the usual precedence, right-associative powers and unary minus', () => {
    expect(parse('(x + y) * (y - 2)')).toEqual({
      kind: 'bin', op: '*',
      left: { kind: 'bin', op: '+', left: { kind: 'var', name: 'x' }, right: { kind: 'var', name: 'y' } },
      right: { kind: 'bin', op: '-', left: { kind: 'var', name: 'y' }, right: { kind: 'num', value: 2 } },
    });
    expect(parse('-x^2')).toEqual({ kind: 'neg', arg: { kind: 'bin', op: '^', left: { kind: 'var', name: 'x' }, right: { kind: 'num', value: 2 } } });
    expect(parse('2^3^2')).toEqual({ kind: 'bin', op: '^', left: { kind: 'num', value: 2 }, right: { kind: 'bin', op: '^', left: { kind: 'num', value: 3 }, right: { kind: 'num', value: 2 } } });
    expect(parse('x ** 2')).toEqual(parse('x ^ 2'));
    expect(variables(parse('tanh(a * b) + a / c'))).toEqual(['a', 'b', 'c']);
  });

  it('refuses anything else, naming where', () => {
    expect(() => parse('x + alert(1)')).toThrow(/unknown function 'alert'/);
    expect(() => parse('x + ')).toThrow(/unexpected end/);
    expect(() => parse('(x + y')).toThrow(/expected '\)' at the end/);
    expect(() => parse('x; y')).toThrow(/unexpected ';' at column 2/);
    expect(() => parse('x y')).toThrow(/unexpected 'y' at column 3/);
    expect(() => parseValues('x = 3, y = foo')).toThrow(/cannot read the values/);
    expect(parseValues('x = 3, y = [1, -2.5], z = 1e-3')).toEqual(new Map<string, number | number[]>([['x', 3], ['y', [1, -2.5]], ['z', 1e-3]]));
  });
});

describe('the graph explorer lesson on the cpu', () => {
  for (const c of CASES) {
    it(`${c.expr}: PyTorch's output, gradients and nodes`, async () => {
      const values = new Map(Object.entries(c.values));
      const { out, leaves } = build(parse(c.expr), values, 'cpu');
      const steps = await recordBackward(toScalar(out));
      expect(steps.map((s) => s.name).sort()).toEqual(c.nodes);
      expect(steps[0]!.gradIn).toEqual([1]);
      const want = (v: number | number[]): number[] => [v].flat();
      for (const [k, g] of Object.entries(c.grads)) {
        const got = [leaves.get(k)!.grad!.tolist()].flat() as number[];
        got.forEach((v, i) => expect(v).toBeCloseTo(want(g)[i]!, 5));
      }
      ([out.tolist()].flat() as number[]).forEach((v, i) => expect(v).toBeCloseTo(want(c.out)[i]!, 5));
    });
  }

  it('a tensor hook on y rewrites the gradient that reaches y.grad', async () => {
    const { out, leaves } = build(parse('(x + y) * (y - 2)'), parseValues('x = 3, y = 4'), 'cpu');
    attachHook(leaves.get('y')!, 'double');
    await recordBackward(toScalar(out));
    expect(leaves.get('y')!.grad!.item()).toBe(18);
    expect(leaves.get('x')!.grad!.item()).toBe(2);
  });
});

describe('the memory lab lesson on the cpu', () => {
  it('checkpointing lowers the peak and leaves the gradient as it was', async () => {
    const model = deepModel('cpu');
    const x = nabla.randn([128, 64]);
    const plain = await measure(model, x, null);
    const four = await measure(model, x, 4);
    expect(plain.peakBytes).toBeGreaterThan(0);
    expect(four.peakBytes).toBeLessThan(plain.peakBytes * 0.6);
    expect(four.plan).toBe('[0,2)* [2,4)* [4,6)* [6,8)');
    expect(Math.max(...four.grad.map((g, i) => Math.abs(g - plain.grad[i]!)))).toBeLessThan(1e-6);
    // The mixed-precision slot follows what core exports.
    expect(findAutocast() === null).toBe(!('autocast' in nabla));
  });
});

describe('npm run demo -- --web', () => {
  it('is recognised from the argument or from npm passing it on as npm_config_web', () => {
    expect(wantsWeb(['node', 'start.js', '--web'], {})).toBe(true);
    expect(wantsWeb(['node', 'start.js'], { npm_config_web: 'true' })).toBe(true);
    expect(wantsWeb(['node', 'start.js'], {})).toBe(false);
  });
});

describe('the memory lab mixed-precision slot', () => {
  it('measures a step under whatever autocast it is given (identity here: float32, same peak)', async () => {
    const { measureAutocast } = await import('../web/src/lessons/memory.js');
    const model = deepModel('cpu');
    const x = nabla.randn([128, 64]);
    const plain = await measure(model, x, null);
    const r = await measureAutocast((_device, fn) => fn(), model, x);
    expect(r.dtype).toBe('float32');
    expect(r.peakBytes).toBeGreaterThan(plain.peakBytes * 0.9);
  });
});
