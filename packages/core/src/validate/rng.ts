/** RNG arguments: a seed is a finite number; a state is what `getRngState()` returned. */
import { NablaError } from '../errors.js';
import { fmtValue } from './format.js';

export function checkSeed(op: string, seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new NablaError(`seed must be a finite number, got ${fmtValue(seed)}`, { op });
  return seed;
}

/** Four 32-bit unsigned integers and the spare normal (a number, NaN when there is none). */
export function checkRngState(op: string, state: unknown): readonly number[] {
  const ok =
    Array.isArray(state) &&
    state.length === 5 &&
    state.slice(0, 4).every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32) &&
    typeof state[4] === 'number' &&
    state.slice(0, 4).some((v) => v !== 0);
  if (!ok) {
    throw new NablaError(
      `expected the state getRngState() returns (4 unsigned 32-bit integers, not all zero, and a number), got ${fmtValue(state)}`,
      { op },
    );
  }
  return state as number[];
}
