/**
 * The Nabla autograd tour: runs the lessons in order on the CPU backend, printing each value next
 * to what it should be. Exits 1 if any check fails, so `npm run demo` doubles as a smoke test.
 * (`npm run demo` starts at start.ts, which serves the web course instead when given `--web`.)
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as nabla from '@nabla/core';
import { cpuBackend } from '@nabla/backend-cpu';
import { FAIL, PASS, Teacher, type CheckResult, type Lesson } from './lesson.js';
import { basicGradients } from './lessons/basic-gradients.js';
import { theGraph } from './lessons/the-graph.js';
import { chainRule } from './lessons/chain-rule.js';
import { higherOrder } from './lessons/higher-order.js';
import { customFunction } from './lessons/custom-function.js';
import { hooks } from './lessons/hooks.js';
import { gradModes } from './lessons/grad-modes.js';
import { gradientDescent } from './lessons/gradient-descent.js';

export const LESSONS: readonly Lesson[] = [basicGradients, theGraph, chainRule, higherOrder, customFunction, hooks, gradModes, gradientDescent];

export interface DemoResult {
  readonly results: readonly CheckResult[];
  readonly failed: number;
}

/** Installs the CPU backend into the default runtime, once. */
async function ensureCpu(): Promise<void> {
  if (!nabla.defaultRuntime().backends.get('cpu')) await nabla.use(cpuBackend());
}

/** Runs every lesson (a lesson that throws counts as a failed check) and prints a summary. */
export async function runDemo(print: (line: string) => void = console.log): Promise<DemoResult> {
  await ensureCpu();
  print(`Nabla ${nabla.VERSION} — autograd, lesson by lesson, on the ${nabla.defaultRuntime().backend('cpu').describe()}`);
  const teacher = new Teacher(print);
  LESSONS.forEach((lesson, i) => {
    teacher.begin(i + 1, lesson.title);
    try {
      lesson.run(teacher);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      teacher.results.push({ lesson: lesson.title, label: 'lesson ran to the end', ok: false, line: msg });
      print(`  the lesson stopped with an error: ${msg} ${FAIL}`);
    }
  });
  const failed = teacher.results.filter((r) => !r.ok).length;
  const total = teacher.results.length;
  print('');
  print(failed === 0 ? `All ${total} checks passed ${PASS}` : `${failed} of ${total} checks failed ${FAIL}`);
  for (const r of teacher.results.filter((x) => !x.ok)) print(`  ${r.lesson}: ${r.label}`);
  return { results: teacher.results, failed };
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  runDemo()
    .then(({ failed }) => {
      process.exitCode = failed === 0 ? 0 : 1;
    })
    .catch((e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    });
}
