/**
 * The CommonJS story: the packages are ESM, and their `exports` carry a `default` condition so that
 * `require('@nabla/core')` works on Node versions that can require ES modules (20.19+, 22.12+).
 * Runs the built packages (turbo builds dependencies before tests) in a child `node`, as a
 * CommonJS user would.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));

describe('require() from CommonJS', () => {
  it('loads core and the cpu backend and runs a backward pass', () => {
    const program = `
      const nabla = require('@nabla/core');
      const { cpuBackend } = require('@nabla/backend-cpu');
      nabla.use(cpuBackend()).then(() => {
        const x = nabla.tensor([1, 2], { requiresGrad: true });
        x.mul(x).sum().backward();
        console.log(JSON.stringify(x.grad.tolist()));
      });`;
    const r = spawnSync(process.execPath, ['--no-warnings', '-e', program], { cwd: here, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('[2,4]');
  });
});
