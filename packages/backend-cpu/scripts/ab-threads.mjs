// A/B of two builds of this backend on the issue-12 SiLU workload (1000² float32, what the bench's
// nablaSilu times), in ONE process: two runtimes, one per build, their samples alternated (ABBA)
// with `setImmediate` between samples as the bench does, and the ratio B/A taken per pair. On a
// shared machine the load swings by 3× within seconds; a pair's two samples are milliseconds
// apart, so the paired ratio moves far less than either column (still: run it A/B and B/A).
//
//   cp -r packages/backend-cpu/dist /tmp/cpu-before        # on the base revision, after a build
//   npm run build -w @nabla/backend-cpu                    # the change
//   node packages/backend-cpu/scripts/ab-threads.mjs /tmp/cpu-before packages/backend-cpu/dist [--case=fb|fwd|ones] [--threads=2] [--n=200]
//
// Core and @nabla/activations come from this repo's built packages (one instance for both
// builds). Prints wall medians (and the process's CPU time per sample: every thread), the paired
// ratio's quartiles and the load average; numbers from a loaded machine are indications only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const dists = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (dists.length !== 2) throw new Error('usage: ab-threads.mjs <dist A> <dist B> [--case=fb|fwd|ones] [--threads=2] [--n=200]');
const CASE = arg('case', 'fb');
const THREADS = Number(arg('threads', 2));
const N = Number(arg('n', 200));
const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const url = (p) => pathToFileURL(p).href;
const core = await import(url(path.join(packages, 'core/dist/index.js')));
const act = await import(url(path.join(packages, 'activations/dist/index.js')));

/** A dist folder outside the repo resolves `@nabla/core` through a temporary package beside this repo's core. */
function loadable(dist) {
  const abs = path.resolve(dist);
  if (abs.startsWith(path.join(packages, 'backend-cpu') + path.sep)) return abs;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-threads-'));
  process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'node_modules/@nabla'), { recursive: true });
  fs.symlinkSync(path.join(packages, 'core'), path.join(root, 'node_modules/@nabla/core'));
  fs.mkdirSync(path.join(root, 'pkg'));
  fs.writeFileSync(path.join(root, 'pkg/package.json'), '{"type":"module"}');
  fs.cpSync(abs, path.join(root, 'pkg/dist'), { recursive: true });
  return path.join(root, 'pkg/dist');
}

const variants = [];
for (const dist of dists) {
  const { cpuBackend } = await import(url(path.join(loadable(dist), 'index.js')));
  const rt = await core.createRuntime({ plugins: [cpuBackend({ threads: THREADS }), act.activations()] });
  const x = rt.randn([1000, 1000], { requiresGrad: true });
  const cases = {
    fb: () => {
      const y = act.silu(x);
      const ones = rt.onesLike(y);
      y.backward(ones);
      x.grad.dispose();
      x.grad = null;
      ones.dispose();
      y.dispose();
    },
    fwd: () => rt.noGrad(() => act.silu(x)).dispose(),
    ones: () => rt.onesLike(x).dispose(),
  };
  if (!(CASE in cases)) throw new Error(`--case: one of ${Object.keys(cases).join(', ')}`);
  variants.push({ name: dist, rt, run: cases[CASE], wall: [], cpu: [] });
}
for (const v of variants) for (let i = 0; i < 15; i++) v.run();
const load0 = os.loadavg()[0];
for (let r = 0; r < N; r++) {
  for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
    await new Promise((res) => setImmediate(res));
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    v.run();
    v.wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    v.cpu.push((c.user + c.system) / 1000);
  }
}
const sorted = (a) => [...a].sort((p, q) => p - q);
const at = (a, p) => sorted(a)[Math.min(a.length - 1, Math.floor(p * a.length))];
const f = (v) => v.toFixed(3);
console.log(`SiLU 1000² ${CASE}, ${THREADS} thread(s), ${N} pairs, load ${f(load0)} -> ${f(os.loadavg()[0])}`);
for (const v of variants) console.log(`  ${v.name}: wall median ${f(at(v.wall, 0.5))} ms (q25 ${f(at(v.wall, 0.25))}, min ${f(at(v.wall, 0))}), cpu median ${f(at(v.cpu, 0.5))} ms`);
const ratio = variants[0].wall.map((a, i) => variants[1].wall[i] / a);
console.log(`  paired wall B/A: median ${f(at(ratio, 0.5))} (q25 ${f(at(ratio, 0.25))}, q75 ${f(at(ratio, 0.75))})`);
for (const v of variants) await v.rt.dispose();
