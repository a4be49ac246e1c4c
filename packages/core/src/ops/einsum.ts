/**
 * `einsum(equation, ...operands)` with PyTorch's semantics: explicit (`'ij,jk->ik'`) and implicit
 * (`'ij,jk'`) output, `...` (broadcast dims), repeated subscripts (diagonals) and PyTorch's error
 * messages. An equation is parsed once and cached. The lowering uses only differentiable ops —
 * diagonal views, sum, permute, reshape, expand, mul and bmm — contracting operands left to right
 * as PyTorch does (a pair without a contracted subscript is a broadcast multiply, otherwise a bmm),
 * so gradients of every order and every backend come for free.
 */
import { AMP, castOperands } from '../amp/state.js';
import { NablaError, fmtShape } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { firstTensor } from './dispatch.js';
import { bmm } from './linalg.js';
import { makeView, windowGrad, type ViewFn } from './view.js';

/** Subscripts: A–Z are 0–25, a–z 26–51; dims covered by `...` get 52, 53, ... */
const ELLIPSIS = -1;
const ELL_BASE = 52;

interface Equation {
  inputs: number[][];
  /** null: implicit output. */
  output: number[] | null;
}

const cache = new Map<string, Equation>();
const CACHE_LIMIT = 512;

function code(ch: string): number {
  const c = ch.charCodeAt(0);
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 97 + 26;
  return -2;
}

function letter(label: number): string {
  return String.fromCharCode(label < 26 ? label + 65 : label - 26 + 97);
}

function fail(msg: string): never {
  throw new NablaError(`einsum(): ${msg}`, { op: 'einsum' });
}

function parseTerm(eq: string, from: number, to: number, which: string): number[] {
  const labels: number[] = [];
  let hasEll = false;
  for (let i = from; i < to; i++) {
    const ch = eq[i]!;
    if (ch === ' ') continue;
    if (ch === '.') {
      if (eq[i + 1] !== '.' || eq[i + 2] !== '.' || i + 2 >= to) fail(`found '.' for ${which} that is not part of any ellipsis`);
      if (hasEll) fail(`found '.' for ${which} for which an ellipsis was already found`);
      hasEll = true;
      labels.push(ELLIPSIS);
      i += 2;
      continue;
    }
    const c = code(ch);
    if (c < 0) fail(`invalid subscript given at index ${i} in the equation string, subscripts must be in [a-zA-Z]`);
    labels.push(c);
  }
  return labels;
}

/** The parsed equation, from the cache when it was seen before. */
export function parseEquation(eq: string): Equation {
  const hit = cache.get(eq);
  if (hit !== undefined) return hit;
  const arrow = eq.indexOf('->');
  const lhsEnd = arrow < 0 ? eq.length : arrow;
  const inputs: number[][] = [];
  let start = 0;
  for (let i = 0; i <= lhsEnd; i++) {
    if (i === lhsEnd || eq[i] === ',') {
      inputs.push(parseTerm(eq, start, i, `operand ${inputs.length}`));
      start = i + 1;
    }
  }
  let output: number[] | null = null;
  if (arrow >= 0) {
    output = parseTerm(eq, arrow + 2, eq.length, 'output');
    const seen = new Set<number>();
    const anywhere = new Set(inputs.flat());
    for (const l of output) {
      if (l === ELLIPSIS) continue;
      if (seen.has(l)) fail(`output subscript ${letter(l)} appears more than once in the output`);
      if (!anywhere.has(l)) fail(`output subscript ${letter(l)} does not appear in the equation for any input operand`);
      seen.add(l);
    }
  }
  const parsed = { inputs, output };
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(eq, parsed);
  return parsed;
}

// ---- the diagonal view (repeated subscripts)

const diagonalGrad = windowGrad('DiagonalBackward0');

/** The diagonal of dims a < b as a view, appended as the last dim (PyTorch's `diagonal(0, a, b)`). */
function diagonal(x: Tensor, a: number, b: number): Tensor {
  const n = Math.min(x.shape[a]!, x.shape[b]!);
  const shape: number[] = [];
  const strides: number[] = [];
  x.shape.forEach((s, d) => {
    if (d !== a && d !== b) {
      shape.push(s);
      strides.push(x._strides[d]!);
    }
  });
  shape.push(n);
  strides.push(x._strides[a]! + x._strides[b]!);
  const fn: ViewFn = (u) => diagonal(u, a, b);
  return makeView(x, shape, strides, x._offset, diagonalGrad, { inShape: x.shape, fn }, fn);
}

// ---- lowering

interface Term {
  t: Tensor;
  labels: number[];
}

function sizeOf(term: Term, label: number): number {
  return term.t.shape[term.labels.indexOf(label)]!;
}

/** Diagonals for repeated labels, then sums over labels no one else needs. */
function reduceTerm(term: Term, needed: (l: number) => boolean): Term {
  let { t, labels } = term;
  for (;;) {
    const dup = labels.findIndex((l, i) => labels.indexOf(l) !== i);
    if (dup < 0) break;
    const first = labels.indexOf(labels[dup]!);
    const l = labels[dup]!;
    t = diagonal(t, first, dup);
    labels = [...labels.filter((_, i) => i !== first && i !== dup), l];
  }
  const drop = labels.map((l, i) => (needed(l) ? -1 : i)).filter((i) => i >= 0);
  if (drop.length > 0) {
    t = t.sum(drop);
    labels = labels.filter((_, i) => !drop.includes(i));
  }
  return { t, labels };
}

/** `term` permuted to `order` (labels it lacks become size-1 dims), expanded where `sizes` says. */
function arrange(term: Term, order: readonly number[], sizes: ReadonlyMap<number, number>, expandTo: boolean): Tensor {
  const present = order.filter((l) => term.labels.includes(l));
  const perm = present.map((l) => term.labels.indexOf(l));
  let t = perm.every((p, i) => p === i) ? term.t : term.t.permute(perm);
  if (present.length !== order.length) t = t.reshape(order.map((l) => (term.labels.includes(l) ? sizeOf(term, l) : 1)));
  if (expandTo) {
    const want = order.map((l) => sizes.get(l)!);
    if (want.some((s, i) => s !== t.shape[i])) t = t.expand(want);
  }
  return t;
}

/** Drops label `l` (size 1 here) from a term. */
function squeezeLabel(term: Term, l: number): Term {
  const d = term.labels.indexOf(l);
  return { t: term.t.squeeze(d), labels: term.labels.filter((_, i) => i !== d) };
}

/**
 * Contracts two terms, keeping the labels `keep` needs, with result dims ordered by `rank` (the
 * output's order) within PyTorch's groups: shared kept labels, then A's own, then B's own. A
 * shared label of size 1 on one side only broadcasts, so it counts as the other side's own.
 */
function contract(a: Term, b: Term, keep: (l: number) => boolean, sizes: ReadonlyMap<number, number>, rank: (l: number) => number): Term {
  for (const l of a.labels.slice()) {
    if (!b.labels.includes(l)) continue;
    const sa = sizeOf(a, l);
    const sb = sizeOf(b, l);
    if (sa === 1 && sb !== 1) a = squeezeLabel(a, l);
    else if (sb === 1 && sa !== 1) b = squeezeLabel(b, l);
  }
  a = reduceTerm(a, (l) => keep(l) || b.labels.includes(l));
  b = reduceTerm(b, (l) => keep(l) || a.labels.includes(l));
  const inB = (l: number): boolean => b.labels.includes(l);
  const inA = (l: number): boolean => a.labels.includes(l);
  const byRank = (ls: number[]): number[] => ls.sort((x, y) => rank(x) - rank(y));
  const batch = byRank(a.labels.filter((l) => inB(l) && keep(l)));
  const summed = a.labels.filter((l) => inB(l) && !keep(l));
  const aOnly = byRank(a.labels.filter((l) => !inB(l)));
  const bOnly = byRank(b.labels.filter((l) => !inA(l)));
  if (summed.length === 0) {
    const order = byRank([...batch, ...aOnly, ...bOnly]);
    return { t: arrange(a, order, sizes, false).mul(arrange(b, order, sizes, false)), labels: order };
  }
  const prod = (ls: readonly number[]): number => ls.reduce((p, l) => p * sizes.get(l)!, 1);
  const bs = prod(batch);
  const m = prod(aOnly);
  const k = prod(summed);
  const n = prod(bOnly);
  const left = arrange(a, [...batch, ...aOnly, ...summed], sizes, true).reshape([bs, m, k]);
  const right = arrange(b, [...batch, ...summed, ...bOnly], sizes, true).reshape([bs, k, n]);
  const order = [...batch, ...aOnly, ...bOnly];
  return { t: bmm(left, right).view(order.map((l) => sizes.get(l)!)), labels: order };
}

/**
 * Einstein summation over `operands` as `equation` says (PyTorch's `torch.einsum`).
 *
 * @example
 * const a = nabla.randn([2, 3]), b = nabla.randn([3, 4]);
 * nabla.einsum('ij,jk->ik', a, b);          // a.matmul(b)
 * nabla.einsum('ii', nabla.eye(3)).item();  // 3 (the trace)
 * nabla.einsum('...ij->...ji', a);          // a transpose over the last two dims
 */
export function einsum(equation: string, ...operands: (Tensor | readonly Tensor[])[]): Tensor {
  const op = 'einsum';
  if (typeof equation !== 'string') throw new NablaError(`einsum(): the equation must be a string, got ${typeof equation}`, { op });
  let ts = (operands.length === 1 && Array.isArray(operands[0]) ? operands[0] : operands) as Tensor[];
  if (ts.length === 0) fail('must specify the equation string and at least one operand');
  ts.forEach((t, i) => {
    if (!(t instanceof Tensor)) fail(`operand ${i} must be a Tensor`);
  });
  if (AMP.active) ts = castOperands(op, ts);
  const first = firstTensor(op, ts);
  const eq = parseEquation(equation);
  if (ts.length > eq.inputs.length) fail('more operands were provided than specified in the equation');
  if (ts.length < eq.inputs.length) fail('fewer operands were provided than specified in the equation');

  // Ellipsis dims, right-aligned across operands; sizes of every label, with broadcasting.
  let ellDims = 0;
  const counts = eq.inputs.map((labels, i) => {
    const named = labels.filter((l) => l !== ELLIPSIS).length;
    const nd = ts[i]!.ndim;
    if (!labels.includes(ELLIPSIS)) {
      if (named !== nd) fail(`the number of subscripts in the equation (${named}) does not match the number of dimensions (${nd}) for operand ${i} and no ellipsis was given`);
      return 0;
    }
    if (named > nd) fail(`the number of subscripts in the equation (${named}) is more than the number of dimensions (${nd}) for operand ${i}`);
    ellDims = Math.max(ellDims, nd - named);
    return nd - named;
  });
  const sizes = new Map<number, number>();
  const terms: Term[] = eq.inputs.map((labels, i) => {
    const t = ts[i]!;
    const full: number[] = [];
    for (const l of labels) {
      if (l === ELLIPSIS) for (let e = ellDims - counts[i]!; e < ellDims; e++) full.push(ELL_BASE + e);
      else full.push(l);
    }
    const own = new Map<number, number>();
    full.forEach((l, d) => {
      const s = t.shape[d]!;
      const prev = own.get(l);
      if (prev !== undefined && prev !== s) fail(`subscript ${letter(l)} is repeated for operand ${i} but the sizes don't match, ${s} != ${prev}`);
      own.set(l, s);
      const seen = sizes.get(l);
      if (seen === undefined || seen === 1) sizes.set(l, s);
      else if (s !== 1 && s !== seen) {
        if (l >= ELL_BASE) {
          fail(`dimension ${l - ELL_BASE} covered by ellipsis in operand ${i}has size ${s} which does not broadcast with previously seen ellipsis with size ${seen} for the respective dimension`);
        }
        fail(`subscript ${letter(l)} has size ${s} for operand ${i} which does not broadcast with previously seen size ${seen}`);
      }
    });
    return { t, labels: full };
  });

  const ell = Array.from({ length: ellDims }, (_, e) => ELL_BASE + e);
  let output: number[];
  if (eq.output === null) {
    const occurrences = new Map<number, number>();
    for (const term of terms) for (const l of term.labels) occurrences.set(l, (occurrences.get(l) ?? 0) + 1);
    output = [...ell, ...[...occurrences.keys()].filter((l) => l < ELL_BASE && occurrences.get(l) === 1).sort((x, y) => x - y)];
  } else {
    output = eq.output.flatMap((l) => (l === ELLIPSIS ? ell : [l]));
  }

  // The lowering makes intermediates (permuted copies, bmm results); the tidy frees them.
  return first.rt.tidy(() => lower(terms, output, sizes, equation));
}

function lower(terms: Term[], output: number[], sizes: ReadonlyMap<number, number>, equation: string): Tensor {
  const op = 'einsum';
  // Labels still needed after operand i: in the output or in a later operand.
  const neededAfter = (i: number) => {
    const later = new Set<number>(output);
    for (let j = i + 1; j < terms.length; j++) for (const l of terms[j]!.labels) later.add(l);
    return (l: number): boolean => later.has(l);
  };
  const inOthers = (i: number) => {
    const others = new Set<number>(output);
    terms.forEach((term, j) => {
      if (j !== i) for (const l of term.labels) others.add(l);
    });
    return (l: number): boolean => others.has(l);
  };
  if (terms.length === 1) {
    // PyTorch's order: diagonals, a permute to [output, summed], then the sum.
    const d = reduceTerm(terms[0]!, () => true);
    const summed = d.labels.filter((l) => !output.includes(l));
    const t = d.t.permute([...output, ...summed].map((l) => d.labels.indexOf(l)));
    return summed.length === 0 ? t : t.sum(summed.map((_, i) => output.length + i));
  }
  const rank = (l: number): number => {
    const r = output.indexOf(l);
    return r < 0 ? output.length + l : r;
  };
  let acc = reduceTerm(terms[0]!, inOthers(0));
  for (let i = 1; i < terms.length; i++) {
    const next = reduceTerm(terms[i]!, inOthers(i));
    acc = contract(acc, next, neededAfter(i), sizes, rank);
  }
  acc = reduceTerm(acc, (l) => output.includes(l));
  const perm = output.map((l) => acc.labels.indexOf(l));
  if (perm.some((p) => p < 0)) throw new NablaError(`einsum(): internal error lowering ${equation} (${fmtShape(perm)})`, { op });
  // A contraction's result is already fresh; PyTorch permutes it only when the order differs.
  return perm.every((p, i) => p === i) ? acc.t : acc.t.permute(perm);
}
