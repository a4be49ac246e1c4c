/**
 * Whether a case had its core: the measuring process's CPU time over the wall time of each sample
 * (every thread counted, so one busy thread reads about 1 and N threads up to N). On a shared
 * machine the load average says that others were busy; this says whether they took this case's
 * time. A case well under 1 waited for a core in most samples: its numbers are indications only.
 */
import { median } from '../stats.js';
import type { CaseRecord } from './model.js';

/** A case's median cpu/wall (NaN when the suite did not measure it). */
export function cpuShare(c: Pick<CaseRecord, 'cpuPerWall'>): number {
  return c.cpuPerWall && c.cpuPerWall.length > 0 ? median(c.cpuPerWall) : NaN;
}

/** Below this median cpu/wall a case's samples mostly waited for a core: the report lists it. */
export const STARVED_SHARE = 0.8;

/** The cases that waited for a core ("tfjs-wasm on matmul 1024²: 0.41"), for a table's notes. */
export function starved(cases: readonly CaseRecord[]): string[] {
  return cases.filter((c) => cpuShare(c) < STARVED_SHARE).map((c) => `${c.impl} on ${c.workload}: ${cpuShare(c).toFixed(2)}`);
}
