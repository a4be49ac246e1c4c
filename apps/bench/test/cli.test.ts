import { describe, expect, it } from 'vitest';
import { parseArgs } from '../src/cli.js';

describe('parseArgs', () => {
  it('reads every flag, in both --flag value and --flag=value forms', () => {
    expect(parseArgs(['--quick', '--suite', 'cpu,overhead', 'hooks', '--device=cpu', '--device', 'webgl', '--runs', '7', '--baseline', 'old.json', '--threshold=1.5', '--out', 'x'])).toEqual({
      quick: true,
      runs: 7,
      suites: ['cpu', 'overhead', 'hooks'],
      devices: ['cpu', 'webgl'],
      baseline: 'old.json',
      threshold: 1.5,
      out: 'x',
      help: false,
    });
  });

  it('defaults to every suite and device, the suites own run counts and a 1.25 threshold', () => {
    expect(parseArgs([])).toMatchObject({ quick: false, runs: null, suites: [], devices: null, baseline: null, threshold: 1.25 });
  });

  it('says what is wrong with a bad flag', () => {
    expect(() => parseArgs(['--runs'])).toThrow(/--runs needs a value/);
    expect(() => parseArgs(['--runs', '2.5'])).toThrow(/positive integer/);
    expect(() => parseArgs(['--threshold', '0.9'])).toThrow(/ratio above 1/);
    expect(() => parseArgs(['--suite', '--quick'])).toThrow(/--suite needs a value/);
    expect(() => parseArgs(['--verbose'])).toThrow(/unknown flag --verbose/);
  });
});
