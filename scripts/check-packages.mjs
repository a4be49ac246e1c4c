#!/usr/bin/env node
// Checks what each publishable package would put in its npm tarball (`npm pack --dry-run`) against
// an allow-list: its manifest, README, LICENSE, and built or source modules — never tests, test
// utilities, fixtures or build caches. Run after `npm run build` (CI does); exits 1 on any stray file.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const REQUIRED = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts'];
const ALLOWED = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^(dist|src)\/.+\.(js|d\.ts|ts|map|wasm|wgsl)$/];
const FORBIDDEN = [/\.test\.(ts|js|d\.ts)(\.map)?$/, /(^|\/)test-utils\//, /(^|\/)(test|tests|fixtures|__tests__)\//, /\.tsbuildinfo$/];

let failed = 0;
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgDir = join(root, 'packages', dir);
  if (!existsSync(join(pkgDir, 'package.json'))) continue;
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (manifest.private) continue;
  const [info] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkgDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  const files = info.files.map((f) => f.path);
  const stray = files.filter((f) => !ALLOWED.some((re) => re.test(f)) || FORBIDDEN.some((re) => re.test(f)));
  const missing = REQUIRED.filter((f) => !files.includes(f));
  const kb = (info.size / 1024).toFixed(0);
  if (stray.length || missing.length) {
    failed++;
    console.log(`✗ ${manifest.name}: ${files.length} files, ${kb} KiB packed`);
    for (const f of stray) console.log(`    not allowed in the tarball: ${f}`);
    for (const f of missing) console.log(`    missing from the tarball: ${f}`);
  } else {
    console.log(`✓ ${manifest.name}: ${files.length} files, ${kb} KiB packed`);
  }
}
if (failed) {
  console.log(`${failed} package(s) would publish files outside the allow-list (edit "files" in their package.json)`);
  process.exit(1);
}
