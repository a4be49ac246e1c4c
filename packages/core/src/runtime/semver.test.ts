import { describe, expect, it } from 'vitest';
import { satisfies } from './semver.js';

describe('plugin core ranges', () => {
  it.each([
    ['0.1.0', '^0.1.0', true],
    ['0.1.5', '^0.1.0', true],
    ['0.2.0', '^0.1.0', false],
    ['1.4.0', '^1.2.0', true],
    ['2.0.0', '^1.2.0', false],
    ['1.2.9', '~1.2.3', true],
    ['1.3.0', '~1.2.3', false],
    ['0.1.0', '>=0.1.0 <1', true],
    ['1.0.0', '>=0.1.0 <1', false],
    ['0.1.0', '*', true],
    ['3.1.0', '^2.0.0 || ^3.0.0', true],
    ['0.1.0', '0.x', true],
  ])('%s satisfies %s: %s', (v, r, ok) => expect(satisfies(v, r)).toBe(ok));
});
