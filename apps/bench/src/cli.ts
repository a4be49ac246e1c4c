/** The bench's command line: flags, their defaults, and the help text. */

export interface BenchOptions {
  quick: boolean;
  /** Exact timed runs per case (null: each suite's own, at least 5 and 300 ms). */
  runs: number | null;
  /** Suites to run (empty: all). */
  suites: string[];
  /** Devices to measure (null: every one that starts). */
  devices: string[] | null;
  /** A previous report.json to compare with. */
  baseline: string | null;
  /** Ratio past which a slower median (with non-overlapping spread) is flagged. */
  threshold: number;
  /** Folder for report.json and report.html (default bench-results/<date-time>/ where npm was started). */
  out: string | null;
  help: boolean;
}

export const HELP = `npm run bench -- [flags] [suite ...]

  --quick              small sizes and 3 runs per case: the whole bench in under two minutes
  --suite a,b          run only these suites (also: bare suite names)
  --device cpu,webgl   measure only these devices (cpu, webgl, webgpu; default: all that start)
  --runs N             exactly N timed runs per case (after warm-up)
  --baseline FILE      compare with a previous report.json and flag regressions
  --threshold X        regression threshold on the median (default 1.25 = 25% worse)
  --out DIR            write report.json and report.html there
  --help               this text

Writes bench-results/<date-time>/report.json and report.html. WebGL needs an X server: without
DISPLAY the bench restarts itself under xvfb-run when it is installed.`;

export function parseArgs(argv: readonly string[]): BenchOptions {
  const o: BenchOptions = { quick: false, runs: null, suites: [], devices: null, baseline: null, threshold: 1.25, out: null, help: false };
  const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`bench: ${flag} needs a value (see --help)`);
      return v;
    };
    switch (flag) {
      case '--quick':
        o.quick = true;
        break;
      case '--suite':
      case '--suites':
        o.suites.push(...list(value()));
        break;
      case '--device':
      case '--devices':
        o.devices = [...(o.devices ?? []), ...list(value())];
        break;
      case '--runs': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new Error(`bench: --runs takes a positive integer, got ${argv[i]}`);
        o.runs = n;
        break;
      }
      case '--baseline':
        o.baseline = value();
        break;
      case '--threshold': {
        const x = Number(value());
        if (!(x > 1)) throw new Error(`bench: --threshold takes a ratio above 1 (e.g. 1.25), got ${argv[i]}`);
        o.threshold = x;
        break;
      }
      case '--out':
        o.out = value();
        break;
      case '--help':
      case '-h':
        o.help = true;
        break;
      default:
        if (a.startsWith('-')) throw new Error(`bench: unknown flag ${a} (see --help)`);
        o.suites.push(a);
    }
  }
  return o;
}
