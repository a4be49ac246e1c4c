/**
 * Every code block the web course shows is a lesson module's own source (`?raw`); this runs tsc
 * over those modules and the pages (web/tsconfig.json: strict, the packages from source), so the
 * code a reader sees type-checks.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const web = fileURLToPath(new URL('../web/', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('the web course type-checks', () => {
  it('tsc -p web/tsconfig.json passes over the lessons and pages', () => {
    const lessons = readdirSync(`${web}src/lessons`).filter((f) => f.endsWith('.ts'));
    expect(lessons.length).toBeGreaterThanOrEqual(5);
    let out = '';
    try {
      out = execFileSync(process.execPath, [tsc, '-p', `${web}tsconfig.json`, '--listFilesOnly'], { encoding: 'utf8' });
      execFileSync(process.execPath, [tsc, '-p', `${web}tsconfig.json`], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`tsc failed:\n${err.stdout ?? ''}${err.stderr ?? ''}` || err.message);
    }
    for (const f of lessons) expect(out, f).toContain(`web/src/lessons/${f}`);
  }, 600_000);
});
