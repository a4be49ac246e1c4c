/**
 * A small WebAssembly binary emitter: enough of the format (types, an imported memory, functions,
 * exports, structured control flow, scalar and SIMD instructions) for the kernels this backend
 * generates at run time. Generating bytes directly needs no toolchain at build or run time, and a
 * module for one expression compiles in well under a millisecond.
 *
 * Instructions are appended to a `Code` with one method per opcode; operands follow the stack
 * machine of the spec (push the arguments, then the instruction).
 */

export const ValType = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b } as const;
export type ValType = (typeof ValType)[keyof typeof ValType];

/** SIMD opcodes (after the 0xfd prefix), named as in the spec. */
export const SIMD = {
  'v128.load': 0,
  'v128.load16_splat': 8,
  'v128.load32_splat': 9,
  'v128.load64_splat': 10,
  'v128.store': 11,
  'v128.const': 12,
  'i32x4.splat': 17,
  'f32x4.splat': 19,
  'f64x2.splat': 20,
  'f32x4.extract_lane': 31,
  'f64x2.extract_lane': 33,
  'i32x4.eq': 55,
  'i32x4.gt_s': 59,
  'f32x4.eq': 65,
  'f32x4.ne': 66,
  'f32x4.lt': 67,
  'f32x4.gt': 68,
  'f32x4.le': 69,
  'f32x4.ge': 70,
  'f64x2.eq': 71,
  'f64x2.ne': 72,
  'f64x2.lt': 73,
  'f64x2.gt': 74,
  'f64x2.le': 75,
  'f64x2.ge': 76,
  'v128.not': 77,
  'v128.and': 78,
  'v128.andnot': 79,
  'v128.or': 80,
  'v128.xor': 81,
  'v128.bitselect': 82,
  'v128.load32_zero': 92,
  'v128.load64_zero': 93,
  'f32x4.ceil': 103,
  'f32x4.floor': 104,
  'f32x4.trunc': 105,
  'f32x4.nearest': 106,
  'f64x2.ceil': 116,
  'f64x2.floor': 117,
  'f64x2.trunc': 122,
  'f64x2.nearest': 148,
  'i16x8.extend_low_i8x16_u': 137,
  'i32x4.extend_low_i16x8_u': 169,
  'i32x4.shl': 171,
  'i32x4.shr_s': 172,
  'i32x4.shr_u': 173,
  'i32x4.add': 174,
  'i32x4.sub': 177,
  'i32x4.mul': 181,
  'i64x2.shl': 203,
  'i64x2.shr_u': 205,
  'i64x2.add': 206,
  'i64x2.sub': 209,
  'f32x4.abs': 224,
  'f32x4.neg': 225,
  'f32x4.sqrt': 227,
  'f32x4.add': 228,
  'f32x4.sub': 229,
  'f32x4.mul': 230,
  'f32x4.div': 231,
  'f32x4.min': 232,
  'f32x4.max': 233,
  'f32x4.pmin': 234,
  'f32x4.pmax': 235,
  'f64x2.abs': 236,
  'f64x2.neg': 237,
  'f64x2.sqrt': 239,
  'f64x2.add': 240,
  'f64x2.sub': 241,
  'f64x2.mul': 242,
  'f64x2.div': 243,
  'f64x2.min': 244,
  'f64x2.max': 245,
  'f64x2.pmin': 246,
  'f64x2.pmax': 247,
  'i32x4.trunc_sat_f32x4_s': 248,
  'f32x4.convert_i32x4_s': 250,
  'f32x4.convert_i32x4_u': 251,
  'f64x2.convert_low_i32x4_s': 254,
  'f64x2.convert_low_i32x4_u': 255,
  'f32x4.demote_f64x2_zero': 94,
  'f64x2.promote_low_f32x4': 95,
  // Relaxed SIMD (a later proposal: Chrome 114+, Firefox 120+, Node 22+; Node 20 behind
  // --experimental-wasm-relaxed-simd). madd(a, b, c) = a·b + c, fused where the hardware has FMA.
  'f32x4.relaxed_madd': 0x105,
  'f64x2.relaxed_madd': 0x107,
} as const;

export type SimdOp = keyof typeof SIMD;

/** Scalar opcodes used by the kernels. */
const OP = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  return: 0x0f,
  drop: 0x1a,
  'local.get': 0x20,
  'local.set': 0x21,
  'local.tee': 0x22,
  'f32.load': 0x2a,
  'f64.load': 0x2b,
  'f32.store': 0x38,
  'f64.store': 0x39,
  'i32.const': 0x41,
  'f32.const': 0x43,
  'f64.const': 0x44,
  'i32.eqz': 0x45,
  'i32.lt_s': 0x48,
  'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a,
  'i32.ge_s': 0x4e,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.and': 0x71,
  'i32.shl': 0x74,
  'i32.shr_u': 0x76,
  'i32.ge_u': 0x4f,
  'f32.min': 0x96,
  'f32.max': 0x97,
  'f64.add': 0xa0,
  'f64.min': 0xa4,
  'f64.max': 0xa5,
  'f64.promote_f32': 0xbb,
} as const;

export class ByteWriter {
  private buf = new Uint8Array(256);
  length = 0;

  byte(b: number): this {
    if (this.length === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = b;
    return this;
  }

  bytes(bs: ArrayLike<number>): this {
    for (let i = 0; i < bs.length; i++) this.byte(bs[i]!);
    return this;
  }

  u32(v: number): this {
    let x = v >>> 0;
    do {
      let b = x & 0x7f;
      x >>>= 7;
      if (x !== 0) b |= 0x80;
      this.byte(b);
    } while (x !== 0);
    return this;
  }

  i32(v: number): this {
    let x = v | 0;
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
        this.byte(b);
        return this;
      }
      this.byte(b | 0x80);
    }
  }

  f32(v: number): this {
    const d = new DataView(new ArrayBuffer(4));
    d.setFloat32(0, v, true);
    return this.bytes(new Uint8Array(d.buffer));
  }

  f64(v: number): this {
    const d = new DataView(new ArrayBuffer(8));
    d.setFloat64(0, v, true);
    return this.bytes(new Uint8Array(d.buffer));
  }

  name(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.u32(b.length).bytes(b);
  }

  /** A length-prefixed sub-sequence (sections, function bodies). */
  sized(w: ByteWriter): this {
    return this.u32(w.length).bytes(w.view());
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** A function body under construction: locals, then instructions. */
export class Code {
  /** Where instructions go: the body, the prologue while `hoist` runs, or a `capture`'s writer. */
  w = new ByteWriter();
  private readonly body = this.w;
  private readonly prologue = new ByteWriter();
  private readonly locals: ValType[] = [];

  constructor(readonly params: readonly ValType[]) {}

  /** A new local of type `t`; returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  get(i: number): this {
    this.w.byte(OP['local.get']).u32(i);
    return this;
  }
  set(i: number): this {
    this.w.byte(OP['local.set']).u32(i);
    return this;
  }
  tee(i: number): this {
    this.w.byte(OP['local.tee']).u32(i);
    return this;
  }
  op(name: keyof typeof OP): this {
    this.w.byte(OP[name]);
    return this;
  }
  i32c(v: number): this {
    this.w.byte(OP['i32.const']).i32(v);
    return this;
  }
  f32c(v: number): this {
    this.w.byte(OP['f32.const']).f32(v);
    return this;
  }
  f64c(v: number): this {
    this.w.byte(OP['f64.const']).f64(v);
    return this;
  }
  /** Memory access with an alignment hint (log2 bytes) and a constant byte offset. */
  mem(name: 'f32.load' | 'f64.load' | 'f32.store' | 'f64.store', align: number, offset = 0): this {
    this.w.byte(OP[name]).u32(align).u32(offset);
    return this;
  }
  simd(name: SimdOp): this {
    this.w.byte(0xfd).u32(SIMD[name]);
    return this;
  }
  /** SIMD loads/stores take a memarg. */
  vmem(name: 'v128.load' | 'v128.store' | 'v128.load16_splat' | 'v128.load32_splat' | 'v128.load64_splat' | 'v128.load32_zero' | 'v128.load64_zero', align: number, offset = 0): this {
    this.w.byte(0xfd).u32(SIMD[name]).u32(align).u32(offset);
    return this;
  }
  /** `v128.const` from four 32-bit lanes (as raw bits). */
  v128i32(lanes: readonly [number, number, number, number]): this {
    this.w.byte(0xfd).u32(SIMD['v128.const']);
    for (const l of lanes) this.w.bytes([l & 0xff, (l >>> 8) & 0xff, (l >>> 16) & 0xff, (l >>> 24) & 0xff]);
    return this;
  }
  f32x4c(v: number): this {
    const b = new Uint32Array(new Float32Array([v]).buffer)[0]!;
    return this.v128i32([b, b, b, b]);
  }
  f64x2c(v: number): this {
    const u = new Uint32Array(new Float64Array([v]).buffer);
    return this.v128i32([u[0]!, u[1]!, u[0]!, u[1]!]);
  }
  i32x4c(v: number): this {
    return this.v128i32([v, v, v, v]);
  }
  lane(name: 'f32x4.extract_lane' | 'f64x2.extract_lane', lane: number): this {
    this.w.byte(0xfd).u32(SIMD[name]).byte(lane);
    return this;
  }
  block(): this {
    this.w.byte(OP.block).byte(0x40);
    return this;
  }
  loop(): this {
    this.w.byte(OP.loop).byte(0x40);
    return this;
  }
  if_(): this {
    this.w.byte(OP.if).byte(0x40);
    return this;
  }
  else_(): this {
    this.w.byte(OP.else);
    return this;
  }
  end(): this {
    this.w.byte(OP.end);
    return this;
  }
  br(depth: number): this {
    this.w.byte(OP.br).u32(depth);
    return this;
  }
  brIf(depth: number): this {
    this.w.byte(OP.br_if).u32(depth);
    return this;
  }

  private readonly consts = new Map<string, number>();

  /** Pushes a splatted f32x4 constant, set once in the prologue (hoisted out of every loop). */
  kf(c: number): this {
    return this.hoisted('f32', c, () => this.f32x4c(c));
  }
  /** Pushes a splatted f64x2 constant (hoisted). */
  kd(c: number): this {
    return this.hoisted('f64', c, () => this.f64x2c(c));
  }
  /** Pushes a splatted i32x4 constant (hoisted). */
  ki(c: number): this {
    return this.hoisted('i32', c, () => this.i32x4c(c));
  }

  private hoisted(kind: string, c: number, emit: () => void): this {
    // Keyed by bits: -0 and 0, and NaNs, are different constants.
    const bits = kind === 'f64' ? new Float64Array([c]) : kind === 'f32' ? new Float32Array([c]) : new Int32Array([c]);
    const key = `${kind}:${Array.from(new Uint8Array(bits.buffer)).join(',')}`;
    let l = this.consts.get(key);
    if (l === undefined) {
      const local = this.local(ValType.v128);
      this.hoist(() => {
        emit();
        this.set(local);
      });
      this.consts.set(key, local);
      l = local;
    }
    return this.get(l);
  }

  /**
   * Emits `emit()` into the function's prologue instead of where the body is now: for values
   * invariant across a loop (SIMD constants), which V8 would otherwise rebuild every iteration.
   */
  hoist(emit: () => void): void {
    const w = this.w;
    this.w = this.prologue;
    try {
      emit();
    } finally {
      this.w = w;
    }
  }

  /**
   * Runs `emit` with instructions going to a writer of their own, and returns its bytes (to be
   * placed later with `bytes`): how a kernel interleaves the instructions of independent vectors.
   * Hoisted constants still go to the prologue.
   */
  capture(emit: () => void): Uint8Array {
    const w = this.w;
    this.w = new ByteWriter();
    try {
      emit();
      return this.w.view().slice();
    } finally {
      this.w = w;
    }
  }

  /** Appends instructions captured by `capture`. */
  bytes(b: Uint8Array): this {
    this.w.bytes(b);
    return this;
  }

  /** The body as the code section stores it: locals (run-length encoded), instructions, `end`. */
  encode(): ByteWriter {
    const body = new ByteWriter();
    const runs: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === t) last[0]++;
      else runs.push([1, t]);
    }
    body.u32(runs.length);
    for (const [n, t] of runs) body.u32(n).byte(t);
    body.bytes(this.prologue.view()).bytes(this.body.view()).byte(OP.end);
    return body;
  }
}

interface FuncDef {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly code: Code;
}

/**
 * A module whose functions all work on one imported memory (`env.memory`), so every generated
 * kernel can read the operands the others wrote.
 */
export class ModuleBuilder {
  private readonly funcs: FuncDef[] = [];

  constructor(readonly memory: { readonly initial: number; readonly maximum?: number; readonly shared?: boolean }) {}

  /** Adds an exported function; fill `code` before calling `encode`. */
  func(name: string, params: readonly ValType[], results: readonly ValType[] = []): Code {
    const code = new Code(params);
    this.funcs.push({ name, params, results, code });
    return code;
  }

  encode(): Uint8Array {
    const out = new ByteWriter().bytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    const section = (id: number, w: ByteWriter): void => {
      out.byte(id).sized(w);
    };
    // Types: one per function (duplicates are harmless and keep indices trivial).
    const types = new ByteWriter().u32(this.funcs.length);
    for (const f of this.funcs) {
      types.byte(0x60).u32(f.params.length).bytes(f.params).u32(f.results.length).bytes(f.results);
    }
    section(1, types);
    const imports = new ByteWriter().u32(1).name('env').name('memory').byte(0x02);
    const m = this.memory;
    if (m.maximum === undefined) imports.byte(0x00).u32(m.initial);
    else imports.byte(m.shared ? 0x03 : 0x01).u32(m.initial).u32(m.maximum);
    section(2, imports);
    const fns = new ByteWriter().u32(this.funcs.length);
    this.funcs.forEach((_, i) => fns.u32(i));
    section(3, fns);
    const exports = new ByteWriter().u32(this.funcs.length);
    this.funcs.forEach((f, i) => exports.name(f.name).byte(0x00).u32(i));
    section(7, exports);
    const code = new ByteWriter().u32(this.funcs.length);
    for (const f of this.funcs) code.sized(f.code.encode());
    section(10, code);
    return out.view().slice();
  }
}
