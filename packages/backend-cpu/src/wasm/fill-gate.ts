/**
 * Whether a large fill is worth splitting across the pool (`fill.ts`), judged from how the last
 * split fills were shared. A fill only stores: a second thread pays off when it runs beside the
 * caller on a core of its own. On a machine with cores to spare the worker takes about half the
 * chunks (SiLU 1000² fwd+bwd at 2 threads: 42-69% of the fill's chunks, p10-p90); when the
 * machine is oversubscribed, one thread or the other is off its core for most of the fill (half
 * the fills saw the worker take none, a tenth saw it take all: the caller had been preempted), so
 * two threads get no more CPU than one, and the worker's time awake comes out of the caller's
 * share (the step measured 25-45% slower, README). The gate closes when recent split fills were
 * lopsided and reopens when they are even again, probing with one split fill in `PROBE_EVERY`
 * while closed. The result never depends on it: every byte is the same whoever stores it.
 */

/** Weight of the newest split fill in the running score. */
const WEIGHT = 0.25;
/** Below this score the gate is closed. */
const OPEN_AT = 0.5;
/** While closed, one large fill in this many is split anyway, to see whether the cores came back. */
export const PROBE_EVERY = 8;

/**
 * `adaptive: false` splits every large fill whatever the gate says: for tests that check the
 * split path ran, on a machine whose load they cannot know.
 */
export const fillSplitting = { adaptive: true };

export class FillGate {
  /** Running average of "the last split fills were evenly shared" (1: all were). */
  private score = 1;
  private skipped = 0;

  /** Whether the next large fill should be split (counts the fills it keeps on the caller). */
  wants(): boolean {
    if (this.score >= OPEN_AT || !fillSplitting.adaptive) return true;
    if (++this.skipped < PROBE_EVERY) return false;
    this.skipped = 0;
    return true;
  }

  /**
   * Records a split fill on `threads` threads in which the caller ran `own` of `chunks` chunks.
   * Even: the caller's share within half a fair share of the fair share on either side (2
   * threads: 25-75%).
   */
  record(own: number, chunks: number, threads: number): void {
    if (chunks <= 0) return;
    const share = own / chunks;
    const fair = 1 / threads;
    const even = share >= fair / 2 && share <= fair * 1.5 ? 1 : 0;
    this.score += WEIGHT * (even - this.score);
  }

  /** The running score (1: the recent split fills were all evenly shared). */
  get evenness(): number {
    return this.score;
  }

  get open(): boolean {
    return this.score >= OPEN_AT;
  }
}
