#!/usr/bin/env node
// Installs the packages as a user would — from `npm pack` tarballs, in a project outside the
// monorepo — and checks what a user does first: an ESM import that runs a backward pass, a
// TypeScript `strict` build with `skipLibCheck: false`, a Vite browser bundle (its sizes are printed,
// with and without the parts a `tensor → backward` app does not use), and CommonJS `require`.
// Run after `npm run build` (CI does). Exits 1 if any step fails.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url).pathname;
const PACKAGES = ['core', 'backend-cpu', 'activations', 'nn'];
const work = mkdtempSync(join(tmpdir(), 'nabla-consumer-'));
const keep = process.argv.includes('--keep');
const run = (cmd, args, cwd, opts = {}) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

let failures = 0;
function step(name, fn) {
  try {
    const note = fn();
    console.log(`✓ ${name}${note ? `: ${note}` : ''}`);
  } catch (e) {
    failures++;
    console.log(`✗ ${name}\n${String(e.stdout ?? '')}${String(e.stderr ?? '')}${e.stdout || e.stderr ? '' : e.message}`.trimEnd());
  }
}

try {
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  const deps = {};
  for (const p of PACKAGES) {
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tarballs], join(root, 'packages', p)));
    deps[info.name] = `file:${join(tarballs, info.filename)}`;
  }
  const ts = JSON.parse(readFileSync(join(root, 'node_modules/typescript/package.json'), 'utf8')).version;
  const app = join(work, 'app');
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: deps, devDependencies: { typescript: ts, '@types/node': '^20.19.0', vite: '^8.0.0' } }, null, 2),
  );
  const program = `import * as nabla from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';

await nabla.use(cpuBackend());
const x = nabla.tensor([1, 2, 3], { requiresGrad: true });
x.mul(x).sum().backward();
const grad: number[] = x.grad!.tolist() as number[];
console.log(JSON.stringify(grad));
`;
  writeFileSync(join(app, 'src/main.ts'), program);
  writeFileSync(
    join(app, 'src/everything.ts'),
    `import * as nabla from '@nabla/core';\nimport { cpuBackend } from '@nabla/backend-cpu';\nimport * as act from '@nabla/activations';\nimport * as nn from '@nabla/nn';\n` +
      `await nabla.use(cpuBackend());\nawait nabla.use(act.activations());\nconst m = new nn.Sequential(new nn.Linear(2, 4), new nn.GELU(), new nn.Linear(4, 1));\n` +
      `nn.mseLoss(m.call(nabla.randn([8, 2])), nabla.zeros([8, 1])).backward();\nconsole.log(m.parameters().length);\n`,
  );
  // Named imports of two layers, a loss and an optimizer: what narrowing `sideEffects` lets a bundler
  // drop from @nabla/nn (the other layers, losses, optimizers, safetensors) and @nabla/activations.
  writeFileSync(
    join(app, 'src/some-nn.ts'),
    `import * as nabla from '@nabla/core';\nimport { cpuBackend } from '@nabla/backend-cpu';\nimport { Linear, mseLoss, optim } from '@nabla/nn';\n` +
      `await nabla.use(cpuBackend());\nconst l = new Linear(2, 1);\nconst opt = new optim.SGD(l.parameters(), { lr: 0.1 });\n` +
      `mseLoss(l.call(nabla.randn([8, 2])), nabla.zeros([8, 1])).backward();\nopt.step();\nconsole.log(l.parameters().length);\n`,
  );
  // No module-preload polyfill (it touches `document`), so the bundle can be run in Node below.
  writeFileSync(join(app, 'vite.config.js'), "export default { build: { modulePreload: { polyfill: false }, target: 'esnext' } };\n");
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] }, include: ['src'] }, null, 2),
  );

  step('npm install of the tarballs', () => {
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], app);
  });
  step('TypeScript strict, skipLibCheck false', () => {
    run(process.execPath, [join(app, 'node_modules/typescript/bin/tsc'), '-p', '.'], app);
    return `typescript ${ts}`;
  });
  step('ESM import runs a backward pass', () => {
    const out = run(process.execPath, ['out/main.js'], app).trim();
    if (out !== '[2,4,6]') throw new Error(`printed ${out}, expected [2,4,6]`);
    return out;
  });
  step('CommonJS require', () => {
    const code = "require('@nabla/core').use(require('@nabla/backend-cpu').cpuBackend()).then((rt) => console.log(rt.tensor([1, 2]).sum().item()))";
    try {
      const out = run(process.execPath, ['--no-warnings', '-e', code], app).trim();
      if (out !== '3') throw new Error(`printed ${out}, expected 3`);
      return `works on Node ${process.version} (require of ES modules)`;
    } catch (e) {
      if (String(e.stderr).includes('ERR_REQUIRE_ESM')) return `ESM only on Node ${process.version}: ERR_REQUIRE_ESM, as the README says`;
      throw e;
    }
  });
  step('Vite browser bundle', () => {
    const pages = [
      ['core + cpu (tensor → backward)', 'main.ts', '[2,4,6]'],
      ['core + cpu + activations + nn', 'everything.ts', '4'],
      ['core + cpu + nn (Linear, mseLoss, SGD)', 'some-nn.ts', '2'],
    ];
    return pages
      .map(([label, entry, expected]) => {
        const out = join(app, `dist-${entry}`);
        writeFileSync(join(app, 'index.html'), `<!doctype html><script type="module" src="/src/${entry}"></script>\n`);
        run(process.execPath, [join(app, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', out, '--logLevel', 'error'], app);
        const files = readdirSync(join(out, 'assets')).filter((f) => f.endsWith('.js'));
        // The entry chunk is the one index.html loads (others: the CPU backend's worker, lazy chunks).
        const main = /src="\/assets\/([^"]+\.js)"/.exec(readFileSync(join(out, 'index.html'), 'utf8'))?.[1] ?? files[0];
        // The bundle must still work after tree-shaking: run it and check what it prints.
        const printed = run(process.execPath, [join(out, 'assets', main)], app).trim();
        if (printed !== expected) throw new Error(`the ${entry} bundle printed ${printed}, expected ${expected}`);
        const bytes = files.map((f) => readFileSync(join(out, 'assets', f)));
        const raw = bytes.reduce((a, b) => a + b.length, 0);
        const gz = bytes.reduce((a, b) => a + gzipSync(b, { level: 9 }).length, 0);
        return `${label}: ${(raw / 1024).toFixed(1)} kB min, ${(gz / 1024).toFixed(1)} kB gzip`;
      })
      .join('; ');
  });
} finally {
  if (keep) console.log(`(kept ${work})`);
  else rmSync(work, { recursive: true, force: true });
}
if (failures) {
  console.log(`${failures} consumer check(s) failed`);
  process.exit(1);
}
