/**
 * The runner itself: a wrong expectation, a missing error, a message without PyTorch's wording or a
 * missing method must each fail the case, so that "all pass" means something.
 */
import { describe, expect, it } from 'vitest';
import { loadCases, prepareDevice, runCase, summaryLine, type Case } from '../src/run.js';

await prepareDevice('cpu');
const cases = new Map(loadCases().cases.map((c) => [c.id, c]));
const get = (id: string): Case => {
  const c = cases.get(id);
  if (!c) throw new Error(`no case ${id}`);
  return structuredClone(c);
};

describe('the conformance runner', () => {
  it('passes a recorded case as it is', async () => {
    expect((await runCase(get('ops-arith/mul/2x3_3'), 'cpu')).status).toBe('pass');
  });

  it('fails a case whose value is off by more than the tolerance', async () => {
    const c = get('ops-arith/mul/2x3_3');
    const y = c.expect.y as { data: number[] };
    y.data[4] = y.data[4]! + 1e-4;
    const r = await runCase(c, 'cpu');
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/^y: element 4/);
  });

  it('fails a case whose gradient is wrong', async () => {
    const c = get('ops-reduce/var/1_c0');
    const g = c.expect['x.grad'] as { data: number[] };
    g.data[0] = -g.data[0]!;
    expect((await runCase(c, 'cpu')).message).toMatch(/^x\.grad: element 0/);
  });

  it('fails on a wrong graph node name or shape', async () => {
    const c = get('gradfn/mul');
    (c.expect as Record<string, unknown>)['y.gradFn'] = 'DivBackward0';
    expect((await runCase(c, 'cpu')).message).toBe('y.gradFn: gradFn MulBackward0 != DivBackward0');
    const d = get('ops-shape/t/2x3_');
    (d.expect.y as { shape: number[] }).shape = [2, 3];
    expect((await runCase(d, 'cpu')).message).toMatch(/^y: shape \[3,2\] != \[2,3\]/);
  });

  it('fails when the expected error is not thrown, or lacks PyTorch\'s wording', async () => {
    const c = get('errors/backward-twice');
    const e = c.expectError!;
    (c as { expectError: typeof e }).expectError = { ...e, step: 2 };
    expect((await runCase(c, 'cpu')).message).toMatch(/step 2 \(backward\) did not throw/);
    const d = get('errors/backward-twice');
    (d as { expectError: typeof e }).expectError = { ...e, contains: 'not what Nabla says' };
    expect((await runCase(d, 'cpu')).message).toMatch(/lacks PyTorch's "not what Nabla says"/);
  });

  it('reports a missing method as an API mismatch, never as the expected error', async () => {
    const c = get('errors/clamp-no-bounds');
    c.steps[0]!.op = 'clampp';
    expect((await runCase(c, 'cpu')).message).toMatch(/TypeError: Tensor has no method 'clampp'/);
  });

  it('skips float64-only cases on float32 devices, saying why', async () => {
    const r = await runCase(get('ops-arith/float32-plus-float64'), 'webgpu');
    expect(r).toMatchObject({ status: 'skip', message: 'float64 only' });
    expect(summaryLine([r, { id: 'a', category: 'a', status: 'fail' }])).toBe('0 passed, 1 failed');
  });
});
