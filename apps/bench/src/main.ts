/**
 * Nabla's benchmarks. `npm run bench` (or `npm run bench -w @nabla/bench -- overhead`) runs every
 * suite on every device that starts here and prints tables whose ratios compare against PyTorch
 * and TensorFlow.js measured in the same run. Nothing here asserts a time: numbers are reported.
 */
import os from 'node:os';
import { setup } from './devices.js';
import { activationSuite } from './suites/activations.js';
import { addmmSuite } from './suites/addmm.js';
import { cpuSuite } from './suites/cpu.js';
import { checkpointSuite } from './suites/checkpoint.js';
import { kernelSuite } from './suites/kernels.js';
import { overheadSuite } from './suites/overhead.js';
import { hooksSuite } from './suites/hooks.js';
import { indexingSuite } from './suites/indexing.js';
import { sortScanSuite } from './suites/sort-scan.js';
import { ampSuite } from './suites/amp.js';
import { tfjsVersion } from './peers/tfjs.js';

const SUITES = ['cpu', 'overhead', 'kernels', 'addmm', 'activations', 'indexing', 'sort-scan', 'hooks', 'checkpoint', 'amp'] as const;

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const run = (s: string): boolean => wanted.length === 0 || wanted.includes(s);
  for (const w of wanted) if (!(SUITES as readonly string[]).includes(w)) throw new Error(`unknown suite ${w} (suites: ${SUITES.join(', ')})`);

  const { rt, devices, targets, notes } = await setup();
  console.log('# Nabla benchmarks');
  console.log(`\nmachine: ${os.cpus()[0]?.model ?? 'unknown CPU'} × ${os.cpus().length}, Node ${process.version}; TensorFlow.js ${tfjsVersion}`);
  for (const n of notes) console.log(`- ${n}`);

  if (run('cpu')) await cpuSuite();
  if (run('overhead')) await overheadSuite(rt);
  if (run('kernels')) await kernelSuite(targets);
  if (run('addmm')) await addmmSuite(targets);
  if (run('activations')) await activationSuite(rt, devices);
  if (run('indexing')) await indexingSuite(rt, devices);
  if (run('sort-scan')) await sortScanSuite(targets);
  if (run('hooks')) await hooksSuite(rt, devices);
  if (run('checkpoint')) await checkpointSuite(rt, devices);
  if (run('amp')) await ampSuite(rt, devices);
  for (const t of targets) if (t.rt !== rt) await t.rt.dispose();
  await rt.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
