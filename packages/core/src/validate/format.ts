/**
 * Shows any value a user passed as they would write it: `NaN`, `Infinity`, `2n`, `Symbol(x)`,
 * `'a'`, `[1.5, 4]`, `{}` — never JSON's `null` for NaN, and never a throw while formatting.
 */
export function fmtValue(v: unknown, depth = 0): string {
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint':
      return `${v}n`;
    case 'string':
      return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
    case 'symbol':
      return v.toString();
    case 'function':
      return `function ${v.name || '(anonymous)'}`;
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(v);
  }
  if (v === null) return 'null';
  if (depth > 2) return '…';
  if (Array.isArray(v)) {
    const items = v.slice(0, 8).map((x) => fmtValue(x, depth + 1));
    return `[${items.join(', ')}${v.length > 8 ? ', …' : ''}]`;
  }
  const ctor = (v as object).constructor;
  if (ctor !== undefined && ctor !== Object && typeof ctor === 'function' && ctor.name) {
    const shape = (v as { shape?: unknown }).shape;
    if (ctor.name === 'Tensor' && Array.isArray(shape)) return `Tensor of shape [${shape.join(', ')}]`;
    return `a ${ctor.name}`;
  }
  try {
    const keys = Object.keys(v as object).slice(0, 4);
    return `{${keys.map((k) => ` ${k}: ${fmtValue((v as Record<string, unknown>)[k], depth + 1)}`).join(',')}${keys.length ? ' ' : ''}}`;
  } catch {
    return 'an object';
  }
}
