/**
 * A small, safe expression parser for the graph explorer (no eval): numbers, variables, + - * / ^,
 * unary minus, parentheses and a fixed list of functions, into a tree of Nabla ops.
 */

export const FUNCTIONS = ['exp', 'log', 'sin', 'cos', 'tanh', 'sigmoid', 'relu', 'sqrt', 'abs', 'sum', 'mean'] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export type Ast =
  | { kind: 'num'; value: number }
  | { kind: 'var'; name: string }
  | { kind: 'neg'; arg: Ast }
  | { kind: 'bin'; op: '+' | '-' | '*' | '/' | '^'; left: Ast; right: Ast }
  | { kind: 'call'; fn: FunctionName; arg: Ast };

type Token = { t: 'num'; v: number; at: number } | { t: 'id'; v: string; at: number } | { t: 'op'; v: string; at: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+)|([A-Za-z_]\w*)|(\*\*|[-+*/^(),]))/y;
  let i = 0;
  while (i < src.length) {
    if (/^\s*$/.test(src.slice(i))) break;
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new SyntaxError(`unexpected '${src.slice(i).trim()[0]}' at column ${i + 1}`);
    const at = m.index + m[0].length - (m[1] ?? m[2] ?? m[3])!.length;
    if (m[1] !== undefined) out.push({ t: 'num', v: Number(m[1]), at });
    else if (m[2] !== undefined) out.push({ t: 'id', v: m[2], at });
    else out.push({ t: 'op', v: m[3] === '**' ? '^' : m[3]!, at });
    i = re.lastIndex;
  }
  return out;
}

/** Parses `src` (for example `(x + y) * (y - 2)`); throws a SyntaxError naming the column. */
export function parse(src: string): Ast {
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const where = (): string => (peek() ? `at column ${peek()!.at + 1}` : 'at the end');
  const isOp = (v: string): boolean => peek()?.t === 'op' && peek()!.v === v;
  const expect = (v: string): void => {
    if (!isOp(v)) throw new SyntaxError(`expected '${v}' ${where()}`);
    p++;
  };
  // sum := term (('+'|'-') term)* ; term := unary (('*'|'/') unary)* ; unary := '-' unary | power ;
  // power := atom ('^' unary)?   (right-associative, binds tighter than unary minus on its left)
  const sum = (): Ast => {
    let left = term();
    while (isOp('+') || isOp('-')) {
      const op = toks[p++]!.v as '+' | '-';
      left = { kind: 'bin', op, left, right: term() };
    }
    return left;
  };
  const term = (): Ast => {
    let left = unary();
    while (isOp('*') || isOp('/')) {
      const op = toks[p++]!.v as '*' | '/';
      left = { kind: 'bin', op, left, right: unary() };
    }
    return left;
  };
  const unary = (): Ast => {
    if (isOp('-')) {
      p++;
      return { kind: 'neg', arg: unary() };
    }
    if (isOp('+')) {
      p++;
      return unary();
    }
    return power();
  };
  const power = (): Ast => {
    const base = atom();
    if (isOp('^')) {
      p++;
      return { kind: 'bin', op: '^', left: base, right: unary() };
    }
    return base;
  };
  const atom = (): Ast => {
    const tok = peek();
    if (!tok) throw new SyntaxError('unexpected end of expression');
    if (tok.t === 'num') {
      p++;
      return { kind: 'num', value: tok.v };
    }
    if (tok.t === 'id') {
      p++;
      if (isOp('(')) {
        if (!(FUNCTIONS as readonly string[]).includes(tok.v)) throw new SyntaxError(`unknown function '${tok.v}' (known: ${FUNCTIONS.join(', ')})`);
        p++;
        const arg = sum();
        expect(')');
        return { kind: 'call', fn: tok.v as FunctionName, arg };
      }
      return { kind: 'var', name: tok.v };
    }
    if (tok.v === '(') {
      p++;
      const e = sum();
      expect(')');
      return e;
    }
    throw new SyntaxError(`unexpected '${tok.v}' ${where()}`);
  };
  const ast = sum();
  if (p < toks.length) throw new SyntaxError(`unexpected '${String(toks[p]!.v)}' ${where()}`);
  return ast;
}

/** The variables an expression uses, in order of first appearance. */
export function variables(ast: Ast, out: string[] = []): string[] {
  if (ast.kind === 'var' && !out.includes(ast.name)) out.push(ast.name);
  else if (ast.kind === 'neg' || ast.kind === 'call') variables(ast.arg, out);
  else if (ast.kind === 'bin') {
    variables(ast.left, out);
    variables(ast.right, out);
  }
  return out;
}

/**
 * Values as a learner types them: `x = 3, y = 4` or `x = [1, 2], y = 0.5`. Only numbers and flat
 * lists of numbers are accepted.
 */
export function parseValues(src: string): Map<string, number | number[]> {
  const out = new Map<string, number | number[]>();
  const re = /\s*([A-Za-z_]\w*)\s*=\s*(\[[^\]]*\]|[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*(?:,|;|$)/y;
  let i = 0;
  while (i < src.length && !/^\s*$/.test(src.slice(i))) {
    re.lastIndex = i;
    const m = re.exec(src);
    if (!m) throw new SyntaxError(`cannot read the values from '${src.slice(i).trim()}' (write them as x = 3, y = [1, 2])`);
    const raw = m[2]!;
    if (raw.startsWith('[')) {
      const items = raw.slice(1, -1).split(',').map((s) => s.trim()).filter((s) => s !== '');
      const nums = items.map(Number);
      if (nums.length === 0 || nums.some((n) => !Number.isFinite(n))) throw new SyntaxError(`${m[1]} = ${raw} is not a list of numbers`);
      out.set(m[1]!, nums);
    } else out.set(m[1]!, Number(raw));
    i = re.lastIndex;
  }
  return out;
}
