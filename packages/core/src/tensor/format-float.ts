/**
 * PyTorch's printing of floating tensors (`torch._tensor_str` with its default options: 4 digits,
 * line width 80): one formatter for the whole tensor picks integer, fixed or scientific mode and a
 * common width from its finite non-zero values, then rows are laid out and wrapped as PyTorch does.
 * Numbers are rounded half to even on their exact decimal value, as Python's `format` does (JS's
 * `toFixed` rounds ties up, and the 16-bit types are full of exact ties such as 1.03125).
 */

/** x (finite) rounded to `frac` decimals, half to even, as a plain decimal string. */
export function toFixedEven(x: number, frac: number): string {
  const neg = x < 0 || Object.is(x, -0);
  let digits: bigint;
  let scale: number; // value = digits / 10^scale
  const a = Math.abs(x);
  if (Number.isInteger(a)) {
    digits = BigInt(a);
    scale = 0;
  } else {
    // a = m · 2^-k exactly, with k ≤ 1074: m · 5^k / 10^k.
    let k = 0;
    let m = a;
    while (!Number.isInteger(m)) {
      m *= 2;
      k++;
    }
    digits = BigInt(m) * 5n ** BigInt(k);
    scale = k;
  }
  if (scale > frac) {
    const div = 10n ** BigInt(scale - frac);
    const q = digits / div;
    const r = digits % div;
    const twice = 2n * r;
    digits = twice > div || (twice === div && q % 2n === 1n) ? q + 1n : q;
  } else {
    digits *= 10n ** BigInt(frac - scale);
  }
  let s = digits.toString();
  if (frac > 0) {
    s = s.padStart(frac + 1, '0');
    s = `${s.slice(0, -frac)}.${s.slice(-frac)}`;
  }
  return (neg ? '-' : '') + s;
}

/** Python's `'{:.4e}'.format(x)`: mantissa with `frac` decimals (half to even), exponent of two or more digits. */
export function toExponentialEven(x: number, frac: number): string {
  if (x === 0) return `${Object.is(x, -0) ? '-' : ''}${(0).toFixed(frac)}e+00`;
  let e = Math.floor(Math.log10(Math.abs(x)));
  let m = toFixedEven(x / 10 ** e, frac);
  // log10 and the division can be off by one near powers of ten: fix the exponent on the digits.
  const lead = (s: string): number => Math.abs(Number(s));
  if (lead(m) >= 10) {
    e += 1;
    m = toFixedEven(x / 10 ** e, frac);
  } else if (lead(m) < 1) {
    e -= 1;
    m = toFixedEven(x / 10 ** e, frac);
  }
  const ae = Math.abs(e);
  return `${m}e${e < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return null;
}

/** PyTorch's `_Formatter` for a floating tensor's values. */
export class FloatFormatter {
  private intMode = true;
  private sciMode = false;
  private maxWidth = 1;

  constructor(values: readonly number[]) {
    const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
    if (finite.length === 0) return;
    const abs = finite.map(Math.abs);
    const min = Math.min(...abs);
    const max = Math.max(...abs);
    for (const v of finite) {
      if (v !== Math.ceil(v)) {
        this.intMode = false;
        break;
      }
    }
    if (this.intMode) {
      if (max / min > 1000 || max > 1e8) {
        this.sciMode = true;
        for (const v of finite) this.maxWidth = Math.max(this.maxWidth, toExponentialEven(v, 4).length);
      } else {
        for (const v of finite) this.maxWidth = Math.max(this.maxWidth, toFixedEven(v, 0).length + 1);
      }
    } else if (max / min > 1000 || max > 1e8 || min < 1e-4) {
      this.sciMode = true;
      for (const v of finite) this.maxWidth = Math.max(this.maxWidth, toExponentialEven(v, 4).length);
    } else {
      for (const v of finite) this.maxWidth = Math.max(this.maxWidth, toFixedEven(v, 4).length);
    }
  }

  width(): number {
    return this.maxWidth;
  }

  format(v: number): string {
    let s = special(v);
    if (s === null) {
      if (this.sciMode) s = toExponentialEven(v, 4);
      else if (this.intMode) s = `${toFixedEven(v, 0)}.`;
      else s = toFixedEven(v, 4);
    }
    return s.padStart(this.maxWidth, ' ');
  }
}

const LINE_WIDTH = 80;

/** The bracketed body of a floating tensor's repr (what follows `tensor(`), as PyTorch lays it out. */
export function formatFloatBody(flat: ArrayLike<number>, shape: readonly number[], indent = 'tensor('.length): string {
  const values = Array.from(flat);
  const f = new FloatFormatter(values);
  if (shape.length === 0) return f.format(values[0]!).trim();
  let k = 0;
  const vector = (ind: number, n: number): string => {
    if (n === 0) return '[]';
    const perLine = Math.max(1, Math.floor((LINE_WIDTH - ind) / (f.width() + 2)));
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(f.format(values[k++]!));
    const lines: string[] = [];
    for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
    return `[${lines.join(`,\n${' '.repeat(ind + 1)}`)}]`;
  };
  const walk = (d: number, ind: number): string => {
    if (d === shape.length - 1) return vector(ind, shape[d]!);
    const parts: string[] = [];
    for (let i = 0; i < shape[d]!; i++) parts.push(walk(d + 1, ind + 1));
    const dimsLeft = shape.length - d;
    return `[${parts.join(`,${'\n'.repeat(dimsLeft - 1)}${' '.repeat(ind + 1)}`)}]`;
  };
  return walk(0, indent);
}

/** `prefix + body` with PyTorch's suffixes (`dtype=...`, ...), wrapped at the line width as PyTorch wraps them. */
export function withSuffixes(text: string, suffixes: readonly string[], indent = 'tensor('.length): string {
  let out = text;
  let lastLine = out.length - out.lastIndexOf('\n') + 1;
  for (const s of suffixes) {
    if (lastLine + s.length + 2 > LINE_WIDTH) {
      out += `,\n${' '.repeat(indent)}${s}`;
      lastLine = indent + s.length;
    } else {
      out += `, ${s}`;
      lastLine += s.length + 2;
    }
  }
  return `${out})`;
}
