#!/usr/bin/env node
// The packages state their own version in code (core's VERSION, which plugins' coreRange is checked
// against; each plugin's version, shown by `plugins()`). `changeset version` bumps package.json
// only: this script writes each package's version into those constants, and with `--check` fails
// when one differs (CI). See RELEASING.md.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const check = process.argv.includes('--check');
const CONSTANT = /^(export const (?:PLUGIN_)?VERSION = )'([^']*)';$/m;
let stale = 0;
for (const dir of readdirSync(join(root, 'packages'))) {
  const manifestPath = join(root, 'packages', dir, 'package.json');
  if (!existsSync(manifestPath)) continue;
  const { name, version } = JSON.parse(readFileSync(manifestPath, 'utf8'));
  for (const file of ['src/version.ts', 'src/plugin.ts']) {
    const path = join(root, 'packages', dir, file);
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    const m = CONSTANT.exec(text);
    if (!m || m[2] === version) continue;
    stale++;
    if (check) console.log(`✗ ${name}: ${file} says ${m[2]}, package.json ${version}`);
    else {
      writeFileSync(path, text.replace(CONSTANT, `$1'${version}';`));
      console.log(`${name}: ${file} ${m[2]} → ${version}`);
    }
  }
}
if (check) console.log(stale ? `${stale} version constant(s) out of date: run node scripts/sync-versions.mjs` : '✓ every version constant matches its package.json');
process.exitCode = check && stale ? 1 : 0;
