/**
 * Just enough semver to check a plugin's declared core range: `^1.2.3`, `~1.2.3`, `>=1.2.3 <2`,
 * `1.x`, `*`, exact versions, and `||` alternatives.
 */
type V = [number, number, number];

function parse(v: string): V | null {
  const m = /^v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?(?:-[\w.]+)?$/.exec(v.trim());
  if (!m) return null;
  const n = (s: string | undefined): number => (s === undefined || s === 'x' || s === '*' ? -1 : Number(s));
  return [Number(m[1]), n(m[2]), n(m[3])];
}

function cmp(a: V, b: V): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function filled(v: V): V {
  return [v[0], Math.max(v[1], 0), Math.max(v[2], 0)];
}

function satisfiesOne(ver: V, comp: string): boolean {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.+)$/.exec(comp);
  if (!m) return false;
  const op = m[1] ?? '';
  if (m[2] === '*' || m[2] === 'x') return true;
  const r = parse(m[2]!);
  if (!r) return false;
  const lo = filled(r);
  switch (op) {
    case '^': {
      let hi: V;
      if (r[0] > 0 || r[1] < 0) hi = [r[0] + 1, 0, 0];
      else if (r[1] > 0 || r[2] < 0) hi = [0, r[1] + 1, 0];
      else hi = [0, 0, r[2] + 1];
      return cmp(ver, lo) >= 0 && cmp(ver, hi) < 0;
    }
    case '~': {
      const hi: V = r[1] < 0 ? [r[0] + 1, 0, 0] : [r[0], r[1] + 1, 0];
      return cmp(ver, lo) >= 0 && cmp(ver, hi) < 0;
    }
    case '>=': return cmp(ver, lo) >= 0;
    case '>': return cmp(ver, lo) > 0;
    case '<=': return cmp(ver, lo) <= 0;
    case '<': return cmp(ver, lo) < 0;
    default: {
      if (r[1] < 0) return ver[0] === r[0];
      if (r[2] < 0) return ver[0] === r[0] && ver[1] === r[1];
      return cmp(ver, lo) === 0;
    }
  }
}

export function satisfies(version: string, range: string): boolean {
  const v = parse(version);
  if (!v) return false;
  return range.split('||').some((alt) => {
    const parts = alt.trim().split(/\s+/).filter(Boolean);
    return parts.length === 0 || parts.every((p) => satisfiesOne(filled(v), p));
  });
}
