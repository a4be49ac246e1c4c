/**
 * The backend in headless Chromium: each group of checks runs in a page against the cpu
 * backend (see browser/page.ts) and is asserted here, one test per group. Without Chromium or a
 * WebGPU adapter in it the suite skips and says why; NABLA_REQUIRE_BROWSER=1 makes that a failure.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openBrowserSession } from '../browser/harness.js';
import { GROUPS } from '../browser/protocol.js';

const TAG = '[backend-webgpu browser tests]';
const t0 = performance.now();
const opened = await openBrowserSession();
const required = process.env.NABLA_REQUIRE_BROWSER === '1';

if (opened.ok) {
  const { adapter, browserVersion, chromium } = opened.session;
  console.log(
    `${TAG} adapter: ${adapter.description} — requestAdapter info ${JSON.stringify(adapter.info)} ` +
      `(Chromium ${browserVersion} at ${chromium}, ready in ${Math.round(performance.now() - t0)} ms)`,
  );
} else {
  console.log(`${TAG} SKIPPED: ${opened.reason}`);
}

if (!opened.ok && required) throw new Error(`${TAG} NABLA_REQUIRE_BROWSER=1 but: ${opened.reason}`);

describe.skipIf(!opened.ok)('backend-webgpu in headless Chromium', () => {
  const session = opened.ok ? opened.session : null;
  afterAll(async () => {
    await session?.close();
  });

  for (const group of GROUPS) {
    it(group, async () => {
      const r = await session!.run(group);
      const log = session!.drainLog();
      console.log(`${TAG} ${group}: ${r.checks} checks, ${r.failures.length} failed, ${r.ms} ms`);
      for (const note of r.notes) console.log(`${TAG}   ${note}`);
      if (log.length) console.log(`${TAG}   browser log:\n    ${log.join('\n    ')}`);
      expect(r.error, 'the group threw').toBeUndefined();
      expect(r.failures, `failed checks in '${group}'`).toEqual([]);
      expect(r.checks).toBeGreaterThan(0);
      expect(log.filter((l) => l.startsWith('page error')), 'page errors').toEqual([]);
    }, 120_000);
  }
});
