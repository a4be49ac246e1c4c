/**
 * Shipped worker functions survive a minifier: `workerFunctions` declares each function under its
 * key and under the name the bundle gave it, and a whole threaded backend bundled minified (as a
 * production build ships it) runs its pool in worker_threads with one thread's bits. Before the
 * shipped functions were closed, such a bundle's worker died at its first job (a renamed module
 * constant) and the caller waited for it forever.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { rolldown } from 'rolldown';
import { describe, expect, it } from 'vitest';
import { workerFunctions } from './worker-source.js';

describe('workerFunctions', () => {
  it('declares each function under its key and under its bundle name, in a scope of their own', () => {
    // What a minifier leaves: `quad` is `Zq` and calls `Ym`, which was `twice`.
    const [Ym, Zq] = new Function('function Ym(x) { return 2 * x; } function Zq(x) { return Ym(Ym(x)); } return [Ym, Zq];')() as [(x: number) => number, (x: number) => number];
    const src = workerFunctions({ twice: Ym, quad: Zq });
    // The worker's own names, and a worker variable `C` a bundle name could otherwise collide with.
    const C = 'unrelated';
    expect(new Function('C', `${src}\nreturn [quad(3), twice(5), C];`)(C)).toEqual([12, 10, 'unrelated']);
    expect(src).toMatch(/^const \{ twice, quad \} = \(\(\) => \{/);
  });

  it('needs no alias when the names match', () => {
    function twice(x: number): number {
      return 2 * x;
    }
    const src = workerFunctions({ twice });
    expect(src).not.toMatch(/const twice = twice/);
    expect(new Function(`${src}\nreturn twice(4);`)()).toBe(8);
  });
});

describe('a threaded backend bundled minified', () => {
  it('runs GEMM and elementwise tasks on its worker, with the bits of one thread', async () => {
    const bundle = await rolldown({
      input: fileURLToPath(new URL('../test-utils/threads-entry.ts', import.meta.url)),
      platform: 'node',
      resolve: { conditionNames: ['source', 'import', 'default'] },
      tsconfig: true,
      logLevel: 'silent',
    });
    const dir = mkdtempSync(join(tmpdir(), 'nabla-minified-'));
    try {
      const { output } = await bundle.generate({ format: 'esm', minify: true });
      const code = output.filter((o) => o.type === 'chunk').map((c) => c.code);
      expect(code).toHaveLength(1);
      // Proof that the minifier renamed the pool's shared functions (else this test proves nothing).
      expect(code[0]).not.toMatch(/function runChunks\(/);
      const file = join(dir, 'threads.mjs');
      writeFileSync(file, code[0]!);
      // In a child process with a time limit: a broken worker source hangs the caller in a synchronous
      // wait, which no timer in this process could interrupt.
      const script = `import(${JSON.stringify(pathToFileURL(file).href)}).then((m) => m.run()).then((r) => console.log(JSON.stringify(r)));`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 90_000 });
      expect(child.error?.message ?? child.stderr, 'the bundle ran to the end').toBe('');
      const r = JSON.parse(child.stdout) as { threads: number; describe: string; sameBits: boolean; jobs: number; tasks: number; liveAfterDispose: number };
      console.log(`[backend-cpu minified bundle] ${r.describe}: ${r.jobs} GEMM jobs, ${r.tasks} elementwise tasks on the pool; same bits as 1 thread: ${r.sameBits}`);
      expect(r.threads).toBe(2);
      expect(r.jobs).toBeGreaterThanOrEqual(1);
      expect(r.tasks).toBeGreaterThanOrEqual(2);
      expect(r.sameBits).toBe(true);
      expect(r.liveAfterDispose).toBe(0);
    } finally {
      await bundle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
