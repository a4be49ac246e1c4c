#!/usr/bin/env node
// `npm run conformance [-- --device webgpu ...]`: Nabla's own PyTorch-recorded suite
// (tests/conformance, in every clone) and then, when this checkout sits beside the shared outside
// suite (../shared/conformance, or the folder NABLA_OUTSIDE_CONFORMANCE names), that one too, with
// the same options. Builds what they import first.
// Exits non-zero when either failed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);
const run = (cmd, argv) => spawnSync(cmd, argv, { stdio: 'inherit' }).status ?? 1;
// `--device X` / `--device=X` other than cpu: the run is about that device, not the CPU's kernels.
const deviceArg = args.flatMap((a, i) => (a === '--device' ? [args[i + 1]] : a.startsWith('--device=') ? [a.slice(9)] : []));
const cpuOnly = deviceArg.every((d) => d === 'cpu');

execFileSync('npx', ['turbo', 'run', 'build', '--filter=@nabla/tests-conformance...', '--output-logs=errors-only'], {
  stdio: 'inherit',
});
console.log('== tests/conformance (this repository\'s cases)');
let status = run('node', ['tests/conformance/dist/cli.js', ...args]);
const outside = `${process.env.NABLA_OUTSIDE_CONFORMANCE ?? '../shared/conformance'}/run.sh`;
if (existsSync(outside)) {
  // The outside suite builds nothing itself: the packages it imports are built above.
  execFileSync('npx', ['turbo', 'run', 'build', '--output-logs=errors-only', '--filter=./packages/*'], { stdio: 'inherit' });
  console.log(`== ${outside} (the outside check)`);
  status = run('bash', [outside, '.', ...args]) || status;
  if (cpuOnly) {
    // Again with the CPU backend's WebAssembly kernels off: the JavaScript kernels, the fallback
    // and the wasm kernels' reference, must pass on their own (a few seconds). This repository's
    // cases run that way in `npm test` (tests/conformance/test/conformance-nowasm.test.ts).
    console.log(`== ${outside} with NABLA_CPU_WASM=0 (JavaScript kernels only)`);
    status = (spawnSync('bash', [outside, '.', ...args], { stdio: 'inherit', env: { ...process.env, NABLA_CPU_WASM: '0' } }).status ?? 1) || status;
  }
} else {
  console.log(`(${outside} is not here: only this repository's cases ran)`);
}
process.exit(status);
