#!/usr/bin/env node
/**
 * The conformance CLI (`npm run conformance` from the repository root, after a build):
 *
 *   node tests/conformance/dist/cli.js [--device cpu|webgpu] [--filter S]... [--exclude S]... [--verbose] [--cases FILE]
 *
 * Prints each failure, then `N passed, M failed` as the last line; exits 1 when anything failed.
 */
import { loadCases, prepareDevice, runCase, selectCases, summaryLine, type CaseResult, type Device } from './run.js';

function parse(argv: string[]) {
  const o = { device: 'cpu' as Device, filter: [] as string[], exclude: [] as string[], verbose: false, cases: undefined as string | undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--device') {
      const d = value();
      if (d !== 'cpu' && d !== 'webgpu') throw new Error(`--device must be cpu or webgpu, not '${d}'`);
      o.device = d;
    } else if (flag === '--filter') o.filter.push(value());
    else if (flag === '--exclude') o.exclude.push(value());
    else if (flag === '--cases') o.cases = value();
    else if (flag === '--verbose') o.verbose = true;
    else throw new Error(`unknown option '${argv[i]}' (options: --device cpu|webgpu, --filter S, --exclude S, --cases FILE, --verbose)`);
  }
  return o;
}

const opts = parse(process.argv.slice(2));
const file = loadCases(opts.cases);
const cases = selectCases(file.cases, opts);
const ready = await prepareDevice(opts.device);
if (!ready.ok) {
  // NABLA_REQUIRE_WEBGPU=1 (CI, where a software adapter is installed) makes a missing adapter a failure.
  const required = process.env.NABLA_REQUIRE_WEBGPU === '1';
  console.log(`conformance: ${required ? 'FAILED' : 'SKIPPED'} on ${opts.device}: ${ready.reason}`);
  console.log(required ? '0 passed, 1 failed' : '0 passed, 0 failed');
  process.exit(required ? 1 : 0);
}
console.log(`conformance: ${cases.length} cases recorded with PyTorch ${file.generator.torch}, on ${opts.device} (${ready.description})`);
const started = Date.now();
const results: CaseResult[] = [];
for (const c of cases) {
  const r = await runCase(c, opts.device);
  results.push(r);
  if (r.status === 'fail') console.log(`FAIL ${r.id}: ${r.message}`);
  else if (opts.verbose) console.log(`${r.status === 'pass' ? 'ok  ' : 'skip'} ${r.id}`);
}
const byCat = new Map<string, [number, number, number]>();
for (const r of results) {
  const e = byCat.get(r.category) ?? [0, 0, 0];
  e[r.status === 'pass' ? 0 : r.status === 'fail' ? 1 : 2]++;
  byCat.set(r.category, e);
}
for (const [cat, [p, f, s]] of byCat) console.log(`  ${cat.padEnd(16)} ${p} passed${f ? `, ${f} FAILED` : ''}${s ? `, ${s} skipped` : ''}`);
const skipped = results.filter((r) => r.status === 'skip').length;
console.log(`${((Date.now() - started) / 1000).toFixed(1)} s${skipped ? `; ${skipped} skipped (float64 only)` : ''}`);
const failed = results.some((r) => r.status === 'fail');
console.log(summaryLine(results));
// Dawn keeps the process alive; the verdict is in.
process.exit(failed ? 1 : 0);
