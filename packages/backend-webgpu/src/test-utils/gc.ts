/** Full garbage collections for tests that count device bytes. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Full collections, each followed by a turn of the event loop so that FinalizationRegistry
 * callbacks run: what earlier code dropped is uncounted now, not by a finalizer in the middle of
 * a measurement that awaits the device.
 */
export async function collectGarbage(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}
