/** Timing helpers: warm up, then take the median of repeated runs (robust to GC pauses). */
export interface Timing {
  /** Median milliseconds per call. */
  ms: number;
  runs: number;
}

export async function time(fn: () => unknown | Promise<unknown>, opts: { warmup?: number; runs?: number; minMs?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 3;
  const minMs = opts.minMs ?? 300;
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  const start = performance.now();
  while (samples.length < (opts.runs ?? 5) || (performance.now() - start < minMs && samples.length < 200)) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)]!, runs: samples.length };
}

export function fmt(x: number, digits = 2): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(digits);
}

/** A result row; `ratio` is other/nabla for times (above 1: Nabla is faster). */
export interface Row {
  suite: string;
  case: string;
  device: string;
  impl: string;
  ms: number;
  metric?: string;
}

export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`\n## ${title}\n`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}
