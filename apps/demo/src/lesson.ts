/**
 * What a lesson is, and the voice it speaks with: `say` explains, `code` shows what runs, and
 * `check` prints a value next to what it should equal — "x.grad = [6, 8]   (expected 2x+2 =
 * [6, 8]) ✓" — and records whether it did.
 */
import type { Tensor } from '@nabla/core';

export interface Lesson {
  readonly title: string;
  run(t: Teacher): void;
}

export interface CheckResult {
  readonly lesson: string;
  readonly label: string;
  readonly ok: boolean;
  readonly line: string;
}

type Value = number | boolean | string | Value[];

export interface CheckOptions {
  /** How the expected value is derived, shown before it: "2x+2". */
  readonly why?: string;
  /** A remark shown after the expected value: "non-leaves keep no .grad". */
  readonly note?: string;
  /** Absolute-plus-relative tolerance for numbers (default 1e-6). */
  readonly tol?: number;
}

/** Numbers as a learner would write them: 6, 0.4, 2.9654, 1.0806. */
export function fmt(v: Value): string {
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`;
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (Object.is(v, -0)) return '0';
    return String(Number(v.toPrecision(5)));
  }
  return String(v);
}

/** The values of a tensor as nested arrays, or a plain value as is. */
function valueOf(x: Tensor | Value | null): Value | null {
  if (x === null) return null;
  if (typeof x === 'object' && !Array.isArray(x)) return x.tolist() as Value;
  return x;
}

function close(a: Value, b: Value, tol: number): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((ai, i) => close(ai, b[i]!, tol));
  }
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tol * (1 + Math.abs(b));
  return a === b;
}

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
export const PASS = paint(32, '✓');
export const FAIL = paint(31, '✗');

export class Teacher {
  readonly results: CheckResult[] = [];
  private lesson = '';

  constructor(private readonly print: (line: string) => void) {}

  /** @internal Starts a lesson's section. */
  begin(index: number, title: string): void {
    this.lesson = title;
    this.print('');
    this.print(paint(1, `Lesson ${index} · ${title}`));
    this.print('─'.repeat(Math.min(72, 11 + title.length)));
  }

  say(text: string): void {
    this.print(text);
  }

  /** Shows code the lesson runs. */
  code(...lines: string[]): void {
    for (const l of lines) this.print(paint(36, `  > ${l}`));
  }

  /** Prints `label = actual   (expected why = expected) ✓` and records the result. */
  check(label: string, actual: Tensor | Value | null, expected: Value | null, opts: CheckOptions = {}): boolean {
    const a = valueOf(actual);
    const ok = a === null || expected === null ? a === expected : close(a, expected, opts.tol ?? 1e-6);
    const shown = a === null ? 'null' : fmt(a);
    const want = expected === null ? 'null' : fmt(expected);
    const why = opts.why && opts.why !== want ? `${opts.why} = ` : '';
    const note = opts.note ? ` — ${opts.note}` : '';
    const line = `  ${label} = ${shown}   (expected ${why}${want}${note}) ${ok ? PASS : FAIL}`;
    return this.record(label, ok, line);
  }

  /** Runs `fn`, which should throw an error whose message contains `text`. */
  checkThrows(label: string, fn: () => unknown, text: string): boolean {
    let message: string | null = null;
    try {
      fn();
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
    }
    const ok = message !== null && message.includes(text);
    const got = message === null ? 'no error' : `"${message.length > 90 ? `${message.slice(0, 87)}...` : message}"`;
    const line = `  ${label} throws ${got}   (expected an error with "${text}") ${ok ? PASS : FAIL}`;
    return this.record(label, ok, line);
  }

  private record(label: string, ok: boolean, line: string): boolean {
    this.results.push({ lesson: this.lesson, label, ok, line });
    this.print(line);
    return ok;
  }
}
