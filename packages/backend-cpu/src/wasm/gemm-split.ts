/**
 * How a threaded GEMM cuts C into the slices its threads claim (`pool.ts`): along the split
 * dimension, in units of micro-panels (MR rows or NR columns).
 *
 * Equal slices, `threads · perThread` of them, leave a thread that was descheduled, or woke late,
 * holding one whole slice at the end while the others sleep: on the 1024² product with 2 threads
 * a slice is 128 rows, ~7 ms, a quarter of each thread's share. So the slices shrink towards the
 * end (guided self-scheduling): each is at most the equal size and at most the rest divided by
 * twice the threads, down to a floor (`SLICE_MIN_MACS`, `SLICE_MIN_LANES`: call overheads and B's
 * trips from L3 are then a small part of a slice). Slices are claimed in order, so the large ones
 * go first and the last ones, which decide when the job ends, are small. A product under
 * `GUIDED_MIN_MACS` (every layer of the MLP step) keeps the equal cut it had.
 *
 * Which thread sums which element never changes the order of the k loop: results are bit-for-bit
 * the same whatever the cut.
 */

/** The fewest multiply-adds a tail slice is cut to: ~60 µs of one thread's work here. */
export const SLICE_MIN_MACS = 1 << 20;
/**
 * The fewest rows (or columns) a tail slice is cut to. A row slice reads all of packed B once per
 * k block, 4/rows bytes per multiply-add at float32: 16 rows keep that to ~5 GB/s at full speed,
 * well within what L3 gives one core, where 4 rows would ask for ~18 GB/s. Only the last few
 * slices are this thin: cutting the whole 1024² product in 32-row slices ran 0.86-0.88× the
 * 128-row cut on 2 threads at load ~8 (paired runs), the shared L3 of a busy machine being slower.
 */
export const SLICE_MIN_LANES = 16;

/**
 * Products under this many multiply-adds (~0.9 ms of one thread: every layer of the MLP step) keep
 * the equal cut, exactly as before the tail shrank: their slices are already a few tens of µs.
 */
export const GUIDED_MIN_MACS = 1 << 24;

/**
 * Slice boundaries over `units` micro-panels of `lanes` rows or columns each, from 0 to `units`
 * ascending: at most `maxSlices` slices, each of at least one unit. `macsPerUnit` is one unit's
 * multiply-adds (its rows or columns times the other dimension times K).
 */
export function sliceBounds(units: number, lanes: number, macsPerUnit: number, threads: number, perThread: number, maxSlices: number): number[] {
  const bounds = [0];
  if (units <= 0) return bounds;
  if (units * macsPerUnit < GUIDED_MIN_MACS) {
    const slices = Math.max(1, Math.min(units, threads * perThread, maxSlices));
    for (let u = 1; u <= slices; u++) bounds.push(Math.floor((units * u) / slices));
    return bounds;
  }
  const equal = Math.max(1, Math.ceil(units / Math.max(1, threads * perThread)));
  const least = Math.max(Math.ceil(SLICE_MIN_MACS / Math.max(1, macsPerUnit)), Math.ceil(SLICE_MIN_LANES / lanes));
  const floor = Math.min(equal, Math.max(1, least));
  let at = 0;
  while (at < units) {
    const rest = units - at;
    // The last slice the cap allows takes everything left.
    const size = bounds.length >= maxSlices ? rest : Math.min(rest, Math.max(floor, Math.min(equal, Math.ceil(rest / (2 * threads)))));
    at += size;
    bounds.push(at);
  }
  return bounds;
}
