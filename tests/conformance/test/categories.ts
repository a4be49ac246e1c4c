/**
 * One vitest test per category of cases.json, so that a failure reads as "ops-reduce: 2 of 180
 * failed" followed by the cases and why.
 */
import { expect, it } from 'vitest';
import { loadCases, runCases, summaryLine, type Case, type Device } from '../src/run.js';

export function byCategory(): Map<string, Case[]> {
  const groups = new Map<string, Case[]>();
  for (const c of loadCases().cases) groups.set(c.category, [...(groups.get(c.category) ?? []), c]);
  return groups;
}

export function categoryTests(device: Device): void {
  for (const [category, cases] of byCategory()) {
    it(`${category} (${cases.length} cases) matches PyTorch`, async () => {
      const results = await runCases(cases, device);
      const failures = results.filter((r) => r.status === 'fail').map((r) => `${r.id}: ${r.message}`);
      expect(failures, summaryLine(results)).toEqual([]);
      // Every case ran or was a declared float64-only skip on a float32 device.
      const ran = results.filter((r) => r.status === 'pass').length;
      const skipped = results.filter((r) => r.status === 'skip').length;
      expect(ran + skipped).toBe(cases.length);
      if (device === 'cpu') expect(skipped).toBe(0);
    });
  }
}
