/**
 * Errors that involve two runtimes name both (issue 15): a layer built in the default runtime while
 * the plugins live in a `createRuntime` one, and a layer of one runtime called on a tensor of
 * another.
 */
import { NablaError, defaultRuntime } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import * as nn from '../src/index.js';
import { cpuRuntime } from './helpers.js';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('errors across runtimes', () => {
  it('a layer built where no backend is installed names its runtime and the one that has the plugins', async () => {
    const rt = await cpuRuntime();
    // The default runtime of this test file has no plugin: the layer's parameters land there.
    const err = errorOf(() => new nn.Linear(2, 3));
    expect(err).toBeInstanceOf(NablaError);
    expect(err.message).toContain(`no backend is installed in ${defaultRuntime().label}`);
    expect(defaultRuntime().label).toBe('the default runtime');
    expect(err.message).toContain(`${rt.label}, devices cpu`);
    expect(err.message).toContain('rt.tensor');
  });

  it("a layer of one runtime called on another runtime's tensor names both runtimes", async () => {
    const a = await cpuRuntime();
    const b = await cpuRuntime();
    const layer = new nn.Linear(2, 3, { runtime: a });
    const err = errorOf(() => layer.forward(b.ones([4, 2])));
    expect(err).toBeInstanceOf(NablaError);
    expect(err.message).toContain(`two different runtimes: `);
    expect(err.message).toContain(a.label);
    expect(err.message).toContain(b.label);
    expect(layer.forward(a.ones([4, 2])).shape).toEqual([4, 3]);
  });
});
