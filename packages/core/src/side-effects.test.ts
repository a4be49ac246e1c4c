/**
 * package.json's `sideEffects` lists every module of core that does something when imported
 * (installs Tensor methods, sets hooks): a bundler drops an unlisted module whose exports are
 * unused, so an unlisted one would silently lose its methods in users' bundles. Each module's
 * top-level statements are parsed; anything but declarations, exports and typed imports is a side
 * effect.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function modules(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return modules(p);
    return f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts') ? [p] : [];
  });
}

/** Whether importing the module runs something beyond defining its exports. */
function hasSideEffects(path: string): boolean {
  const sf = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
  return sf.statements.some((s) => {
    if (ts.isImportDeclaration(s)) return s.importClause === undefined; // import './x.js'
    return ts.isExpressionStatement(s) || ts.isIterationStatement(s, false) || ts.isIfStatement(s) || ts.isBlock(s) || ts.isTryStatement(s);
  });
}

describe("core's sideEffects", () => {
  it('lists every module that has side effects, in dist and src', () => {
    const declared = new Set<string>(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).sideEffects);
    const effectful = modules(join(root, 'src')).filter(hasSideEffects).map((p) => relative(root, p).replace(/\.ts$/, ''));
    expect(effectful).toContain('src/ops/methods');
    for (const m of effectful) {
      expect(declared, `${m}.ts has side effects`).toContain(`./${m}.ts`);
      expect(declared, `${m}.ts has side effects`).toContain(`./${m.replace(/^src\//, 'dist/')}.js`);
    }
  });
});
