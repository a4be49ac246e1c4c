/**
 * Nabla's conformance cases (recorded from PyTorch 1.13 in float64 by gen.py) on the CPU backend,
 * float64 tolerances, every case.
 */
import { describe, expect, it } from 'vitest';
import { prepareDevice } from '../src/run.js';
import { byCategory, categoryTests } from './categories.js';

const ready = await prepareDevice('cpu');

describe('conformance with PyTorch on cpu', () => {
  it('has a case for every op family', () => {
    expect(ready.ok).toBe(true);
    const categories = [...byCategory().keys()];
    for (const family of ['ops-arith', 'ops-compare', 'ops-where', 'ops-reduce', 'ops-linalg', 'ops-shape', 'indexing',
      'ops-softmax', 'ops-inplace', 'views', 'grad-modes', 'autograd', 'errors', 'gradfn', 'activations',
      'activations-ref', 'double-backward', 'higher-order', 'factories', 'random', 'random-2nd', 'random-mixed']) {
      expect(categories).toContain(family);
    }
  });
  categoryTests('cpu');
});
