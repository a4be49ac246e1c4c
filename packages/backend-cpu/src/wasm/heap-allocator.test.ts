/**
 * The heap's block allocator (`heap-allocator.ts`) on its own, over a simulated memory: size
 * classes, reuse, merging, the top, limits, and a random run that fills every block with its own
 * tag and checks no block ever overlaps another.
 */
import { describe, expect, it } from 'vitest';
import { BLOCK_ALIGN, blockSize, HeapAllocator } from './heap-allocator.js';
import { rng } from '../test-utils/views.js';

/** An allocator over a growable byte array that records how far it was asked to grow. */
function simulated(base = 1024, max = 1 << 26) {
  let memory = new Uint8Array(1 << 16);
  const a = new HeapAllocator(base, (end) => {
    if (end > max) return false;
    if (end > memory.length) {
      const m = new Uint8Array(Math.max(end, memory.length * 2));
      m.set(memory);
      memory = m;
    }
    return true;
  });
  return { a, mem: () => memory };
}

describe('blockSize', () => {
  it('is 64-aligned, at least the request, and wastes at most an eighth past 512 bytes', () => {
    for (let n = 1; n < 300_000; n += 37) {
      const b = blockSize(n);
      expect(b % BLOCK_ALIGN).toBe(0);
      expect(b).toBeGreaterThanOrEqual(n);
      if (n > 512) expect(b).toBeLessThanOrEqual(n * 1.125 + BLOCK_ALIGN);
    }
    expect(blockSize(16384)).toBe(16384);
    expect(blockSize(16385)).toBe(16384 + 2048);
  });
});

describe('HeapAllocator', () => {
  it('hands a freed block back to the next request of its class', () => {
    const { a } = simulated();
    const p = a.alloc(40_000);
    const q = a.alloc(40_000);
    a.free(p);
    expect(a.alloc(39_000)).toBe(p); // same class
    expect(a.freeBytes()).toBe(0);
    expect(q).toBeGreaterThanOrEqual(p + 40_000);
  });

  it('merges free neighbours before it grows, and a block reaching the top lowers it', () => {
    const { a } = simulated();
    const [p, q, r, s] = [a.alloc(16384), a.alloc(16384), a.alloc(16384), a.alloc(16384)];
    expect([q - p, r - q, s - r]).toEqual([16384, 16384, 16384]);
    a.free(p);
    a.free(r);
    expect(a.freeBytes()).toBe(2 * 16384);
    a.free(q);
    expect(a.freeBytes()).toBe(3 * 16384);
    const top = a.end();
    // No quick-listed block is 48 KiB: merging them (p, q and r are one block) serves it in place.
    expect(a.alloc(3 * 16384)).toBe(p);
    expect(a.end()).toBe(top);
    expect(a.freeBytes()).toBe(0);
    a.free(s);
    a.mergeQuick();
    expect(a.end()).toBe(top - 16384);
    a.free(p);
    a.mergeQuick();
    expect(a.end()).toBe(1024);
    expect(a.usedBytes()).toBe(0);
    expect(a.freeBytes()).toBe(0);
  });

  it('splits a larger free block and keeps the rest', () => {
    const { a } = simulated();
    const p = a.alloc(1 << 20);
    a.alloc(64); // keeps p off the top
    a.free(p);
    a.mergeQuick();
    const q = a.alloc(1 << 16);
    expect(q).toBe(p);
    expect(a.freeBytes()).toBe((1 << 20) - (1 << 16));
    expect(a.alloc(1 << 16)).toBe(p + (1 << 16));
  });

  it('says -1 past a limit or when the memory cannot grow, and throws on a bad free', () => {
    const { a } = simulated(1024, 1 << 20);
    expect(a.alloc(1 << 21)).toBe(-1);
    expect(a.alloc(1 << 16, 1 << 16)).toBe(-1); // the block would end past the limit
    const p = a.alloc(1 << 16);
    expect(p).toBe(1024);
    expect(() => a.free(p + 64)).toThrow(/not a block in use/);
    a.free(p);
    expect(() => a.free(p)).toThrow(/not a block in use/);
  });

  it('never hands out overlapping blocks: a random run, every block filled with its tag and checked when freed', () => {
    const { a, mem } = simulated();
    const next = rng(5);
    const live: { p: number; n: number; tag: number }[] = [];
    let tag = 0;
    let maxEnd = 0;
    const check = (b: { p: number; n: number; tag: number }) => {
      const m = mem();
      for (let i = b.p; i < b.p + b.n; i += 61) if (m[i] !== b.tag) return false;
      return m[b.p + b.n - 1] === b.tag;
    };
    for (let step = 0; step < 4000; step++) {
      if (next() < 0.05) a.mergeQuick(); // what growth does, at random moments too
      if (live.length > 0 && (next() < 0.45 || live.length > 60)) {
        const i = Math.floor(next() * live.length);
        const b = live.splice(i, 1)[0]!;
        expect(check(b), `block ${b.tag} at ${b.p} (${b.n} bytes) was overwritten`).toBe(true);
        a.free(b.p);
      } else {
        const n = 1 + Math.floor(next() ** 3 * 300_000);
        const p = a.alloc(n);
        expect(p).toBeGreaterThanOrEqual(1024);
        expect(p % BLOCK_ALIGN).toBe(0);
        tag = (tag % 250) + 1;
        mem().fill(tag, p, p + n);
        live.push({ p, n, tag });
        maxEnd = Math.max(maxEnd, a.end());
      }
    }
    for (const b of live) expect(check(b)).toBe(true);
    // Everything in use or free is below the top, and the totals add up.
    const inUse = live.reduce((s, b) => s + blockSize(b.n), 0);
    expect(a.usedBytes()).toBeGreaterThanOrEqual(inUse);
    expect(a.usedBytes() + a.freeBytes()).toBe(a.end() - 1024);
    for (const b of live) a.free(b.p);
    a.mergeQuick();
    expect(a.end()).toBe(1024);
    expect(a.freeBytes()).toBe(0);
  });

  it('a loop of the same sizes stops growing after its first pass', () => {
    const { a } = simulated();
    const sizes = [40_000, 1 << 20, 3000 * 4, 1 << 20, 70_000, 256 * 1024];
    const tops: number[] = [];
    let keep = -1;
    for (let step = 0; step < 20; step++) {
      const ps = sizes.map((n) => a.alloc(n));
      // The previous step's survivor dies during this step; this step leaves one of its own.
      if (keep >= 0) a.free(keep);
      keep = a.alloc(5000);
      // Free in an order unlike the allocation's, as a training step's tensors die.
      for (const i of [3, 0, 5, 1, 4, 2]) a.free(ps[i]!);
      tops.push(a.end());
    }
    expect(new Set(tops.slice(2)).size, `tops ${tops.join(' ')}`).toBe(1);
  });
});
