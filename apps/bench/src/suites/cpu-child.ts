/**
 * A measuring process of the cpu suite (forked by `cpu.ts`, one per group of rows): waits for its
 * orders on the IPC channel, measures that one group (`measureGroup`), sends what it found and
 * exits. PyTorch is the suite's server, borrowed over the same channel.
 */
import { borrowedTorch } from '../peers/pytorch-remote.js';
import { bench } from '../report/recorder.js';
import { timingOverrides } from '../timing.js';
import { measureGroup, type GroupMeta, type GroupResult } from './cpu-group.js';
import { cpuSizes } from './cpu-rows.js';

/** The suite's orders: which group, the run's flags, and its PyTorch server (or why there is none). */
export interface ChildOrders {
  t: 'measure';
  group: number;
  quick: boolean;
  runs: number | null;
  /** Measure the FMA column too (the process was started with relaxed SIMD's flag). */
  fmaColumn: boolean;
  torch: { version: string; blas: string } | { missing: string };
}

/** What the child sends back: its runtimes first, then the cells, or the error that stopped it. */
export type ChildReport = { t: 'meta'; meta: GroupMeta } | { t: 'result'; result: GroupResult } | { t: 'error'; message: string; stack?: string };

function send(m: ChildReport): Promise<void> {
  return new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()));
}

async function run(o: ChildOrders): Promise<void> {
  bench.quick = o.quick;
  timingOverrides.runs = o.runs;
  const torch = 'missing' in o.torch ? o.torch : borrowedTorch(o.torch.version, o.torch.blas);
  const pending: Promise<void>[] = [];
  const result = await measureGroup(o.group, cpuSizes(o.quick), torch, (meta) => void pending.push(send({ t: 'meta', meta })), o.fmaColumn);
  await Promise.all(pending);
  if ('close' in torch) torch.close();
  await send({ t: 'result', result });
}

process.once('message', (m: ChildOrders) => {
  run(m).then(
    // tfjs and the pool's workers keep handles open: the answer is sent, so leave.
    () => process.exit(0),
    async (e: unknown) => {
      await send({ t: 'error', message: e instanceof Error ? e.message : String(e), ...(e instanceof Error && e.stack ? { stack: e.stack } : {}) });
      process.exit(1);
    },
  );
});
