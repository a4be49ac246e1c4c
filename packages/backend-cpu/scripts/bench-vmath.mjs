// Micro-benchmark of generated elementwise kernels: ns per element of one kernel call on data
// already in the wasm memory (no copies, one thread), for kernel generators built by
// build-kernels.sh, A/B interleaved in one process.
//
//   node scripts/bench-vmath.mjs /tmp/k-before /tmp/k-after [--only=siluFwd,tanh] [--n=4096] [--rep=2000]
//
// Times are the process's CPU time (user + system), not wall time: on a shared machine they lie
// less, as they leave out the time other processes held the core (they still include what those
// processes cost in caches and a shared core). Medians of 11 rounds; print the load with them.
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const arg = (name, dflt) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const dirs = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (dirs.length === 0) throw new Error('usage: bench-vmath.mjs <kernels dir>... (see build-kernels.sh)');
const only = arg('only', null)?.split(',');
const N = Number(arg('n', 4096));
const REP = Number(arg('rep', 2000));
const ROUNDS = 11;
const load = async (dir, file) => import(pathToFileURL(path.resolve(dir, file)).href);
const gens = await Promise.all(dirs.map(async (d) => ({ E: await load(d, 'emitter.js'), K: await load(d, 'elementwise-kernel.js') })));

const input = (index) => ({ op: 'input', index });
const c = (value) => ({ op: 'const', value });
const un = (op, a) => ({ op, a });
const bin = (op, a, b) => ({ op, a, b });
const x = input(0);
const s = un('sigmoid', x);
/** The expressions core and @nabla/activations declare (silu's f, g·f', gg·g·f''; tanh's backward). */
const EXPRS = {
  exp: [un('exp', x), 1],
  sigmoid: [s, 1],
  tanh: [un('tanh', x), 1],
  siluFwd: [bin('mul', x, s), 1],
  siluBwd: [bin('mul', input(1), bin('mul', s, bin('add', c(1), bin('mul', x, bin('sub', c(1), s))))), 2],
  silu2: [bin('mul', bin('mul', input(2), input(1)), bin('mul', bin('mul', s, bin('sub', c(1), s)), bin('add', c(2), bin('mul', x, bin('sub', c(1), bin('mul', c(2), s)))))), 3],
  tanhBwd: [bin('mul', input(1), bin('sub', c(1), bin('mul', x, x))), 2],
};

const memory = new WebAssembly.Memory({ initial: Math.ceil((5 * (N * 8 + 64) + 1024) / 65536) });
const SLOT = N * 8 + 64;
const BASE = 1024;
const f32 = new Float32Array(memory.buffer);
const f64 = new Float64Array(memory.buffer);
for (let k = 1; k <= 3; k++) {
  for (let i = 0; i < N; i++) {
    // Roughly normal, as randn: most inputs where the polynomial works, a few in the tails.
    const r = (Math.random() + Math.random() + Math.random() + Math.random() - 2) * 3;
    f32[(BASE + SLOT * k) / 4 + i] = r;
    f64[(BASE + SLOT * k) / 8 + i] = r;
  }
}

const rows = [];
for (const [name, [expr, nIn]] of Object.entries(EXPRS)) {
  if (only !== null && only !== undefined && !only.includes(name)) continue;
  for (const dtype of ['float32', 'float64']) {
    const spec = { name, expr, inputDtypes: new Array(nIn).fill(dtype), outDtype: dtype, computeDtype: dtype, numParams: 0, key: name };
    const fns = gens.map(({ E, K }) => {
      const plan = K.wasmPlan(spec);
      if (plan === null) return null; // stays in JavaScript (float64 transcendentals)
      const mod = new E.ModuleBuilder({ initial: 1 });
      K.emitElementwise(mod, spec, plan);
      const run = new WebAssembly.Instance(new WebAssembly.Module(mod.encode()), { env: { memory } }).exports.run;
      const args = [N, BASE, ...Array.from({ length: nIn }, (_, k) => BASE + SLOT * (k + 1)), ...new Array(nIn).fill(16)];
      return () => run(...args);
    });
    if (fns.every((f) => f === null)) continue;
    rows.push({ name: `${name} ${dtype}`, fns });
  }
}

const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`ns/element, ${N} elements per call, CPU time, median of ${ROUNDS}; load ${loadavg()}`);
console.log(`${''.padEnd(18)}${dirs.map((d) => path.basename(d).padStart(12)).join('')}`);
for (const row of rows) {
  const t = row.fns.map(() => []);
  for (const f of row.fns) if (f !== null) for (let i = 0; i < 500; i++) f(); // tier up to TurboFan
  for (let r = 0; r < ROUNDS; r++) {
    row.fns.forEach((f, j) => {
      if (f === null) return;
      const t0 = process.cpuUsage();
      for (let i = 0; i < REP; i++) f();
      const d = process.cpuUsage(t0);
      t[j].push(((d.user + d.system) * 1000) / REP / N);
    });
  }
  console.log(`${row.name.padEnd(18)}${row.fns.map((f, j) => (f === null ? 'js' : median(t[j]).toFixed(3)).padStart(12)).join('')}`);
}
console.log(`load ${loadavg()}`);
