/**
 * Blocks of a WebAssembly memory for CPU storages and kernel scratch (`heap.ts` drives it).
 *
 * A two-level segregated fit (TLSF's idea, kept in JavaScript maps rather than in block headers,
 * so the memory holds nothing but data): requests are rounded up to a size class (8 per power of
 * two, at least 64 bytes, 64-aligned, so no two blocks share a cache line and a training loop's
 * slightly different sizes land in the same class); free blocks sit in bins by size; a freed block
 * first waits in a quick list of its exact size (a stack: a training loop frees and asks again
 * for the same sizes every step, and a pop is far cheaper than merging and splitting). Allocation
 * takes a block of its class from the quick lists, else the first block of the first non-empty
 * bin whose every block fits (splitting off the rest when it is worth a block of its own); before
 * the top would grow, every quick-listed block is merged with its free neighbours (a block that
 * reaches the top lowers it) and the bins are tried again.
 *
 * The memory never shrinks (WebAssembly memories cannot), so what the top once reached stays
 * reserved for reuse; `heap.ts` reports it as pooled.
 */

/** Every block starts at a multiple of this (a cache line; 16 would do for vectors). */
export const BLOCK_ALIGN = 64;
/** A split remainder smaller than this stays with the block (it would only fragment the bins). */
const MIN_SPLIT = 4096;
/** Bins per power of two. */
const SUB = 8;
const SUB_BITS = 3;

/** `bytes` rounded up to its class: a multiple of 64, then to one of 8 steps per power of two. */
export function blockSize(bytes: number): number {
  const b = Math.max(BLOCK_ALIGN, Math.ceil(bytes / BLOCK_ALIGN) * BLOCK_ALIGN);
  const fl = Math.floor(Math.log2(b));
  const step = Math.max(BLOCK_ALIGN, 2 ** (fl - SUB_BITS));
  return Math.ceil(b / step) * step;
}

/** The bin holding free blocks of `size` bytes: [class lower bound, next class) → one bin. */
function binOf(size: number): number {
  const fl = Math.floor(Math.log2(size));
  const sl = Math.floor(size / 2 ** (fl - SUB_BITS)) - SUB;
  return fl * SUB + sl;
}

export class HeapAllocator {
  /** One past the highest byte any block has used; blocks above it are bumped. */
  private top: number;
  private readonly bins: Set<number>[] = [];
  /** Free blocks by start (→ size) and by end (→ start), for merging neighbours. */
  private readonly freeAt = new Map<number, number>();
  private readonly freeEnd = new Map<number, number>();
  /** Blocks in use, start → size. */
  private readonly used = new Map<number, number>();
  /** Freed blocks not merged yet, by exact size. */
  private readonly quick = new Map<number, number[]>();
  private quickSum = 0;
  private usedSum = 0;
  private freeSum = 0;

  /**
   * Manages [base, ∞): `grow(end)` is asked to make the memory at least `end` bytes long before a
   * block up to `end` is handed out, and says whether it could.
   */
  constructor(
    readonly base: number,
    private readonly grow: (end: number) => boolean,
  ) {
    if (base % BLOCK_ALIGN !== 0) throw new Error(`heap allocator: base ${base} is not ${BLOCK_ALIGN}-aligned`);
    this.top = base;
  }

  /**
   * A block of at least `bytes` bytes (its start), or -1 when the memory cannot hold it or the
   * block would reach past `limit` (a bound for storages, below the memory's own maximum).
   */
  alloc(bytes: number, limit = Infinity): number {
    const size = blockSize(bytes);
    const q = this.quick.get(size);
    if (q !== undefined && q.length > 0) {
      const at = q.pop()!;
      this.quickSum -= size;
      this.used.set(at, size);
      this.usedSum += size;
      return at;
    }
    let p = this.fromBins(size);
    if (p >= 0) return p;
    if (this.quickSum > 0) {
      this.mergeQuick();
      p = this.fromBins(size);
      if (p >= 0) return p;
    }
    const end = this.top + size;
    if (end > limit || !this.grow(end)) return -1;
    const at = this.top;
    this.top = end;
    this.used.set(at, size);
    this.usedSum += size;
    return at;
  }

  /** Gives the block at `ptr` back (to its quick list); a pointer that is not a block in use throws. */
  free(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new Error(`heap allocator: ${ptr} is not a block in use`);
    this.used.delete(ptr);
    this.usedSum -= size;
    let q = this.quick.get(size);
    if (q === undefined) this.quick.set(size, (q = []));
    q.push(ptr);
    this.quickSum += size;
  }

  /** Merges every quick-listed block into the bins (or the top). */
  mergeQuick(): void {
    for (const [size, q] of this.quick) {
      for (const p of q) this.release(p, size);
      q.length = 0;
    }
    this.quickSum = 0;
  }

  /** A free block at `ptr`: merged with its free neighbours, binned or lowering the top. */
  private release(ptr: number, bytes: number): void {
    let size = bytes;
    let start = ptr;
    const before = this.freeEnd.get(start);
    if (before !== undefined) {
      size += start - before;
      this.unlink(before);
      start = before;
    }
    const afterSize = this.freeAt.get(start + size);
    if (afterSize !== undefined) {
      this.unlink(start + size);
      size += afterSize;
    }
    if (start + size === this.top) this.top = start;
    else this.link(start, size);
  }

  /** The size of the block in use at `ptr` (its class), or -1. */
  sizeOf(ptr: number): number {
    return this.used.get(ptr) ?? -1;
  }

  /** Bytes in blocks in use (class sizes). */
  usedBytes(): number {
    return this.usedSum;
  }

  /** Bytes in free blocks below the top (quick-listed ones included). */
  freeBytes(): number {
    return this.freeSum + this.quickSum;
  }

  /** One past the highest byte in use or free (what the memory must hold). */
  end(): number {
    return this.top;
  }

  private fromBins(size: number): number {
    const bins = this.bins;
    for (let b = binOf(size); b < bins.length; b++) {
      const set = bins[b];
      if (set === undefined || set.size === 0) continue;
      const at = set.values().next().value as number;
      const have = this.freeAt.get(at)!;
      this.unlink(at);
      let take = have;
      if (have - size >= MIN_SPLIT) {
        this.link(at + size, have - size);
        take = size;
      }
      this.used.set(at, take);
      this.usedSum += take;
      return at;
    }
    return -1;
  }

  private link(start: number, size: number): void {
    this.freeAt.set(start, size);
    this.freeEnd.set(start + size, start);
    const b = binOf(size);
    (this.bins[b] ??= new Set()).add(start);
    this.freeSum += size;
  }

  private unlink(start: number): void {
    const size = this.freeAt.get(start)!;
    this.freeAt.delete(start);
    this.freeEnd.delete(start + size);
    this.bins[binOf(size)]!.delete(start);
    this.freeSum -= size;
  }
}
