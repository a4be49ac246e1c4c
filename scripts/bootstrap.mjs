#!/usr/bin/env node
// Makes the quick-start commands work on a fresh clone: installs the workspace's dependencies when
// node_modules is missing or older than package-lock.json, and does nothing otherwise.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.log('bootstrap: installing dependencies (npm install)...');
  execSync('npm install --no-audit --no-fund', { stdio: 'inherit' });
}
