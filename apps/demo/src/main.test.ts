import { describe, expect, it } from 'vitest';
import { LESSONS, runDemo } from './main.js';

describe('the demo', () => {
  it('runs every lesson and every check passes', async () => {
    const lines: string[] = [];
    const { results, failed } = await runDemo((l) => lines.push(l));
    const failures = results.filter((r) => !r.ok).map((r) => `${r.lesson}: ${r.line}`);
    expect(failures).toEqual([]);
    expect(failed).toBe(0);
    expect(new Set(results.map((r) => r.lesson))).toEqual(new Set(LESSONS.map((l) => l.title)));
    expect(results.length).toBeGreaterThan(40);
    expect(lines.at(-1)).toMatch(/^All \d+ checks passed/);
  });

  it('prints what a learner checks: the value next to what it should equal', async () => {
    const lines: string[] = [];
    await runDemo((l) => lines.push(l));
    expect(lines).toContain('  x.grad = [6, 8]   (expected 2x+2 = [6, 8]) ✓');
    expect(lines).toContain('  a.grad = 3   (expected b + 1 = 3) ✓');
    expect(lines.some((l) => l.includes('├─ MulBackward0'))).toBe(true);
  });
});
