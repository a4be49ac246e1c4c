/**
 * The guides' code blocks are programs: extracted in order, type-checked together (one `tsc` run)
 * and executed, so every example a reader copies compiles and does what the prose says.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';

const here = fileURLToPath(new URL('..', import.meta.url));
const guidesDir = join(here, '../../docs/guides');
const outDir = join(here, '.generated');

/** The ```ts blocks of a markdown file, joined into one module. */
export function programOf(markdown: string): string {
  const blocks = [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  return blocks.join('\n');
}

const guides = readdirSync(guidesDir).filter((f) => f.endsWith('.md')).sort();

beforeAll(() => {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const g of guides) writeFileSync(join(outDir, g.replace(/\.md$/, '.ts')), `${programOf(readFileSync(join(guidesDir, g), 'utf8'))}\nexport {};\n`);
});

describe('the guides', () => {
  it('have code to check', () => {
    expect(guides.length).toBeGreaterThan(0);
    for (const g of guides) expect(programOf(readFileSync(join(guidesDir, g), 'utf8')).length, g).toBeGreaterThan(0);
  });

  it('type-check under strict', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.guides.json')], { encoding: 'utf8', timeout: 300_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  for (const g of guides) {
    it(`${g} runs`, async () => {
      // A fresh copy of every package per guide: each guide installs into its own default runtime.
      vi.resetModules();
      await import(pathToFileURL(join(outDir, g.replace(/\.md$/, '.ts'))).href);
    }, 300_000);
  }
});
