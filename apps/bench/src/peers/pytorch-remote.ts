/**
 * The suite's one PyTorch server, lent to a measuring process the suite forked (the cpu suite
 * measures each group of rows in a fresh Node process, `suites/cpu-child.ts`): the child asks over
 * its IPC channel, the suite forwards to the server and answers. PyTorch itself stays one process
 * for the whole suite, as when everything ran in one Node process; while it runs a block both
 * Node processes only wait.
 */
import type { ChildProcess } from 'node:child_process';
import type { BlockBudget, BlockSamples } from '../interleave.js';
import type { ServedCase, TorchServer } from './pytorch.js';

/** A PyTorch question: set a case up, or time a block of one of its steps. */
export type TorchQuestion = { op: 'setup'; c: ServedCase } | { op: 'block'; name: string; c: ServedCase; step: string; budget: BlockBudget };

/** What a child sends (`t: 'torch'`); `id` pairs the answer with the question. */
export type TorchAsk = { t: 'torch'; id: number } & TorchQuestion;

/** The answer: a block's samples, nothing for a set-up, or the error's message. */
export interface TorchAnswer {
  t: 'torch';
  id: number;
  samples?: BlockSamples;
  error?: string;
}

const isAsk = (m: unknown): m is TorchAsk => typeof m === 'object' && m !== null && (m as { t?: unknown }).t === 'torch';

/** Suite side: answers `child`'s PyTorch questions with `torch` until the child exits. */
export function lendTorch(child: ChildProcess, torch: TorchServer): void {
  child.on('message', (m: unknown) => {
    if (!isAsk(m)) return;
    const answer = (a: Omit<TorchAnswer, 't' | 'id'>): void => {
      if (child.connected) child.send({ t: 'torch', id: m.id, ...a } satisfies TorchAnswer);
    };
    const work = m.op === 'setup' ? torch.setup(m.c).then(() => ({})) : torch.contender(m.name, m.c, m.step).block(m.budget).then((samples) => ({ samples }));
    work.then(answer, (e: unknown) => answer({ error: e instanceof Error ? e.message : String(e) }));
  });
}

/** Child side: a `TorchServer` whose requests go to the suite's server through this process's IPC channel. */
export function borrowedTorch(version: string, blas: string): TorchServer {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('borrowedTorch: this process has no IPC channel (it is not a measuring child)');
  let next = 0;
  const waiting = new Map<number, { resolve: (a: TorchAnswer) => void }>();
  const onMessage = (m: unknown): void => {
    if (typeof m !== 'object' || m === null || (m as { t?: unknown }).t !== 'torch') return;
    const a = m as TorchAnswer;
    waiting.get(a.id)?.resolve(a);
    waiting.delete(a.id);
  };
  process.on('message', onMessage);
  const ask = async (q: TorchQuestion): Promise<TorchAnswer> => {
    const id = next++;
    const answer = new Promise<TorchAnswer>((resolve) => waiting.set(id, { resolve }));
    send({ t: 'torch', id, ...q });
    const a = await answer;
    if (a.error !== undefined) throw new Error(a.error);
    return a;
  };
  return {
    version,
    blas,
    setup: async (c) => void (await ask({ op: 'setup', c })),
    contender: (name, c, step) => ({ name, block: async (budget) => (await ask({ op: 'block', name, c, step, budget })).samples! }),
    // The suite owns the server; the child only lets go of its channel.
    close: () => process.off('message', onMessage),
  };
}
