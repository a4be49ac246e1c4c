// TEMPORARY (not committed): runs apps/bench's checkpoint suite from source.
import { it } from 'vitest';
import { setup } from '../../../apps/bench/src/devices.js';
import { checkpointSuite } from '../../../apps/bench/src/suites/checkpoint.js';
it('bench', async () => {
  const { rt, devices } = await setup();
  const want = (process.env.BENCH_DEV ?? 'cpu').split(',');
  console.log(JSON.stringify(await checkpointSuite(rt, devices.filter((d) => want.includes(d)))));
}, 3_600_000);
