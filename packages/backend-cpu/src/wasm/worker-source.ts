/**
 * Functions shipped to the pool's workers as source text, in a form that survives a minifier.
 *
 * The workers run functions shared with the caller (`runSlice`, `runChunks`, `runModuleTask`) as
 * their source text (`fn.toString()`): both sides run the same code, and there is no worker file
 * for a bundler to resolve. A minifier renames module-level bindings, though, and may inline a
 * constant in one place and not another: in a production bundle `runChunks` calls `Ym` where the
 * source said `runSlice`, and reads `$m` where it said `DONE_AT`. So the rule for a shipped
 * function is: it uses only its parameters, its own locals (layout constants as literals),
 * globals (`Math`, `Atomics`, `WebAssembly`) and the other shipped functions. The last are
 * declared here under both names, the one the worker's own text uses and the one the bundle gave
 * the function (`fn.name`: a minifier renames a declaration and its name together).
 * `test/browser-threads.test.ts` and `worker-source.test.ts` run the pool from minified bundles.
 */

const IDENT = /^[A-Za-z_$][\w$]*$/;

/**
 * A `const` declaration of `fns` for a worker's source, by their keys. Inside, in a scope of their
 * own (so a short bundle name cannot collide with the worker's variables), each function is also
 * declared under the name the (possibly minified) code calls it by, when that differs.
 *
 * @example
 * ```ts
 * function twice(x: number): number { return 2 * x; }
 * function quad(x: number): number { return twice(twice(x)); }
 * const body = `${workerFunctions({ twice, quad })}\nconsole.log(quad(3));`; // 12, minified or not
 * ```
 */
export function workerFunctions(fns: Readonly<Record<string, (...args: never[]) => unknown>>): string {
  const keys = Object.keys(fns);
  for (const key of keys) if (!IDENT.test(key)) throw new Error(`worker source: '${key}' is not a name`);
  const lines: string[] = [];
  for (const key of keys) {
    const fn = fns[key]!;
    lines.push(`  const ${key} = ${fn.toString()};`);
    // (A bundle name equal to another key cannot be declared twice; no bundler renames to such names.)
    if (fn.name !== key && IDENT.test(fn.name) && !keys.includes(fn.name)) lines.push(`  const ${fn.name} = ${key};`);
  }
  return `const { ${keys.join(', ')} } = (() => {\n${lines.join('\n')}\n  return { ${keys.join(', ')} };\n})();`;
}
