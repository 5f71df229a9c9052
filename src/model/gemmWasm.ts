/**
 * The matrix product the MLP trains and predicts with, as a small WebAssembly module with 128-bit SIMD (which
 * Node 20 runs):
 *
 *   C[r][n] = init[n] + sum over k = 0 .. K-1 of A[r * ars + k * acs] * B[k * N + n]      (r < rows, n < N)
 *
 * with `init` a bias vector or zero. The two lanes of each f64x2 hold two different outputs n, never two terms
 * of one sum: every output is still one accumulator, started at its bias and added to term by term for k = 0, 1,
 * ..., K-1, with a separate multiply and add (no fused multiply-add), so each C[r][n] is the same double as a
 * plain loop `s = init[n]; for (k...) s += A * B` gives, bit for bit. Register tiling (4 rows x 4 outputs, or 1
 * row x 8 outputs, in 8 vector accumulators) and the loop order (outputs outermost, so a 4-output slab of B stays
 * in the core's first cache while the rows pass) change only how often the operands are loaded.
 *
 * The module is assembled here from its instructions (no toolchain, nothing downloaded) and works on a
 * WebAssembly.Memory that the caller allocates once and views as Float64Arrays: all offsets are in doubles.
 */

/** The kernel: offsets in doubles into the memory; `bias` < 0 starts every output at zero. */
export type Gemm = (c: number, a: number, b: number, bias: number, rows: number, k: number, n: number, ars: number, acs: number) => void;

// ---- a minimal WebAssembly assembler: the few instructions the kernel needs ----------------------------------

const I32 = 0x7f;
const F64 = 0x7c;
const V128 = 0x7b;

function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function sleb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (text: string): number[] => [...uleb(text.length), ...[...text].map((c) => c.charCodeAt(0))];

/** A function body under construction: locals are declared as they are asked for. */
class Body {
  readonly code: number[] = [];
  private readonly localTypes: number[] = [];
  constructor(private readonly params: number) {}
  local(type: number): number {
    this.localTypes.push(type);
    return this.params + this.localTypes.length - 1;
  }
  get = (l: number) => this.code.push(0x20, ...uleb(l));
  set = (l: number) => this.code.push(0x21, ...uleb(l));
  i32 = (v: number) => this.code.push(0x41, ...sleb(v));
  op = (...bytes: number[]) => this.code.push(...bytes);
  /** local = local + (value pushed by `f`) (i32). */
  addTo(l: number, f: () => void): void {
    this.get(l);
    f();
    this.op(0x6a);
    this.set(l);
  }
  /** while (cond) body: cond leaves an i32 on the stack. */
  loop(cond: () => void, body: () => void): void {
    this.op(0x02, 0x40, 0x03, 0x40); // block, loop
    cond();
    this.op(0x45, 0x0d, 0x01); // i32.eqz, br_if 1 (leave)
    body();
    this.op(0x0c, 0x00, 0x0b, 0x0b); // br 0, end loop, end block
  }
  /** if (cond) a else b: cond leaves an i32. */
  ifElse(cond: () => void, a: () => void, b: () => void): void {
    cond();
    this.op(0x04, 0x40);
    a();
    this.op(0x05);
    b();
    this.op(0x0b);
  }
  encode(): number[] {
    const groups: number[][] = this.localTypes.map((t) => [1, t]);
    const body = [...vector(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

// Opcodes (i32 arithmetic, f64 and SIMD memory and arithmetic).
const ADD = 0x6a;
const MUL = 0x6c;
const LT_S = 0x48;
const LE_S = 0x4c;
const GE_S = 0x4e;
const SHL = 0x74;
const F64_LOAD = [0x2b, 0x03, 0x00];
const F64_STORE = [0x39, 0x03, 0x00];
const F64_ADD = 0xa0;
const F64_MUL = 0xa2;
const v128Load = (offset: number) => [0xfd, 0x00, 0x03, ...uleb(offset)];
const v128Store = (offset: number) => [0xfd, 0x0b, 0x03, ...uleb(offset)];
const LOAD64_SPLAT = [0xfd, 0x0a, 0x03, 0x00];
const F64X2_ADD = [0xfd, ...uleb(240)];
const F64X2_MUL = [0xfd, ...uleb(242)];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

/** The kernel's body: see the file's comment for what it computes. */
function gemmBody(): Body {
  const f = new Body(9);
  const [C, A, B, BIAS, ROWS, K, N, ARS, ACS] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  // Strides in bytes.
  const nb = f.local(I32);
  const arsb = f.local(I32);
  const acsb = f.local(I32);
  const n0 = f.local(I32);
  const r0 = f.local(I32);
  const k = f.local(I32);
  const pa = f.local(I32); // A's row r0 at k = 0, in bytes
  const pb = f.local(I32); // B[k][n0], in bytes
  const pk = f.local(I32); // k * acs, in bytes
  const pc = f.local(I32);
  const p1 = f.local(I32);
  const p2 = f.local(I32);
  const p3 = f.local(I32);
  const acc = Array.from({ length: 8 }, () => f.local(V128));
  const bv = Array.from({ length: 4 }, () => f.local(V128));
  const s = f.local(V128);
  const sacc = f.local(F64);
  const bytes = (l: number, out: number) => {
    f.get(l);
    f.i32(3);
    f.op(SHL);
    f.set(out);
  };
  bytes(N, nb);
  bytes(ARS, arsb);
  bytes(ACS, acsb);
  for (const p of [C, A, B]) {
    f.get(p);
    f.i32(3);
    f.op(SHL);
    f.set(p);
  }
  const initVector = (into: number, lane: number) =>
    f.ifElse(
      () => {
        f.get(BIAS);
        f.i32(0);
        f.op(GE_S);
      },
      () => {
        f.get(BIAS);
        f.get(n0);
        f.op(ADD);
        f.i32(3);
        f.op(SHL);
        f.op(...v128Load(lane * 16));
        f.set(into);
      },
      () => {
        f.op(...V128_ZERO);
        f.set(into);
      },
    );
  // acc[i] += splat(A at address (row pointer + pk)) * bv[j]
  const madd = (accIndex: number, vec: number) => {
    f.get(acc[accIndex]!);
    f.get(s);
    f.get(vec);
    f.op(...F64X2_MUL);
    f.op(...F64X2_ADD);
    f.set(acc[accIndex]!);
  };
  const splatFrom = (rowPtr: number) => {
    f.get(rowPtr);
    f.get(pk);
    f.op(ADD);
    f.op(...LOAD64_SPLAT);
    f.set(s);
  };
  /** A block of `width` vectors (2 `width` outputs) from column n0 for rows r0 .. r0 + rowsInBlock - 1. */
  const tile = (rowsInBlock: number, width: number) => {
    // Row pointers into A.
    f.get(A);
    f.get(r0);
    f.get(arsb);
    f.op(MUL);
    f.op(ADD);
    f.set(pa);
    const rowPtrs = [pa, p1, p2, p3].slice(0, rowsInBlock);
    for (let r = 1; r < rowsInBlock; r++) {
      f.get(rowPtrs[r - 1]!);
      f.get(arsb);
      f.op(ADD);
      f.set(rowPtrs[r]!);
    }
    for (let v = 0; v < width; v++) {
      initVector(acc[v]!, v);
      for (let r = 1; r < rowsInBlock; r++) {
        f.get(acc[v]!);
        f.set(acc[r * width + v]!);
      }
    }
    f.get(B);
    f.get(n0);
    f.i32(3);
    f.op(SHL);
    f.op(ADD);
    f.set(pb);
    f.i32(0);
    f.set(pk);
    f.i32(0);
    f.set(k);
    f.loop(
      () => {
        f.get(k);
        f.get(K);
        f.op(LT_S);
      },
      () => {
        for (let v = 0; v < width; v++) {
          f.get(pb);
          f.op(...v128Load(v * 16));
          f.set(bv[v]!);
        }
        for (let r = 0; r < rowsInBlock; r++) {
          splatFrom(rowPtrs[r]!);
          for (let v = 0; v < width; v++) madd(r * width + v, bv[v]!);
        }
        f.addTo(pb, () => f.get(nb));
        f.addTo(pk, () => f.get(acsb));
        f.addTo(k, () => f.i32(1));
      },
    );
    // Store: C[r0 + r][n0 ..].
    f.get(C);
    f.get(r0);
    f.get(nb);
    f.op(MUL);
    f.op(ADD);
    f.get(n0);
    f.i32(3);
    f.op(SHL);
    f.op(ADD);
    f.set(pc);
    for (let r = 0; r < rowsInBlock; r++) {
      for (let v = 0; v < width; v++) {
        f.get(pc);
        f.get(acc[r * width + v]!);
        f.op(...v128Store(v * 16));
      }
      if (r < rowsInBlock - 1) f.addTo(pc, () => f.get(nb));
    }
  };
  const rowsLoop = (width: number) => {
    f.i32(0);
    f.set(r0);
    // Four rows at a time with `width` vectors each (at most 8 accumulators), then one row at a time.
    const four = Math.min(4, Math.floor(8 / width));
    f.loop(
      () => {
        f.get(r0);
        f.i32(four);
        f.op(ADD);
        f.get(ROWS);
        f.op(LE_S);
      },
      () => {
        tile(four, width);
        f.addTo(r0, () => f.i32(four));
      },
    );
    f.loop(
      () => {
        f.get(r0);
        f.get(ROWS);
        f.op(LT_S);
      },
      () => {
        tile(1, width);
        f.addTo(r0, () => f.i32(1));
      },
    );
  };
  f.i32(0);
  f.set(n0);
  // One row (a prediction): 8 outputs per pass over k. Several rows (training): 4 outputs, 4 rows.
  f.ifElse(
    () => {
      f.get(ROWS);
      f.i32(1);
      f.op(0x46); // i32.eq
    },
    () =>
      f.loop(
        () => {
          f.get(n0);
          f.i32(8);
          f.op(ADD);
          f.get(N);
          f.op(LE_S);
        },
        () => {
          rowsLoop(4);
          f.addTo(n0, () => f.i32(8));
        },
      ),
    () => undefined,
  );
  f.loop(
    () => {
      f.get(n0);
      f.i32(4);
      f.op(ADD);
      f.get(N);
      f.op(LE_S);
    },
    () => {
      rowsLoop(2);
      f.addTo(n0, () => f.i32(4));
    },
  );
  f.loop(
    () => {
      f.get(n0);
      f.i32(2);
      f.op(ADD);
      f.get(N);
      f.op(LE_S);
    },
    () => {
      rowsLoop(1);
      f.addTo(n0, () => f.i32(2));
    },
  );
  // A last odd output, scalar: for each row, init + sum over k.
  f.loop(
    () => {
      f.get(n0);
      f.get(N);
      f.op(LT_S);
    },
    () => {
      f.i32(0);
      f.set(r0);
      f.loop(
        () => {
          f.get(r0);
          f.get(ROWS);
          f.op(LT_S);
        },
        () => {
          f.ifElse(
            () => {
              f.get(BIAS);
              f.i32(0);
              f.op(GE_S);
            },
            () => {
              f.get(BIAS);
              f.get(n0);
              f.op(ADD);
              f.i32(3);
              f.op(SHL);
              f.op(...F64_LOAD);
              f.set(sacc);
            },
            () => {
              f.op(0x44, 0, 0, 0, 0, 0, 0, 0, 0); // f64.const 0
              f.set(sacc);
            },
          );
          f.get(A);
          f.get(r0);
          f.get(arsb);
          f.op(MUL);
          f.op(ADD);
          f.set(pa);
          f.get(B);
          f.get(n0);
          f.i32(3);
          f.op(SHL);
          f.op(ADD);
          f.set(pb);
          f.i32(0);
          f.set(k);
          f.loop(
            () => {
              f.get(k);
              f.get(K);
              f.op(LT_S);
            },
            () => {
              f.get(sacc);
              f.get(pa);
              f.op(...F64_LOAD);
              f.get(pb);
              f.op(...F64_LOAD);
              f.op(F64_MUL);
              f.op(F64_ADD);
              f.set(sacc);
              f.addTo(pa, () => f.get(acsb));
              f.addTo(pb, () => f.get(nb));
              f.addTo(k, () => f.i32(1));
            },
          );
          f.get(C);
          f.get(r0);
          f.get(nb);
          f.op(MUL);
          f.op(ADD);
          f.get(n0);
          f.i32(3);
          f.op(SHL);
          f.op(ADD);
          f.get(sacc);
          f.op(...F64_STORE);
          f.addTo(r0, () => f.i32(1));
        },
      );
      f.addTo(n0, () => f.i32(1));
    },
  );
  return f;
}

function moduleBytes(): Uint8Array {
  const type = section(1, vector([[0x60, ...vector(new Array<number[]>(9).fill([I32])), 0x00]]));
  // (import "m" "memory" (memory 1)): the caller's memory, at least one page.
  const imports = section(2, vector([[...name('m'), ...name('memory'), 0x02, 0x00, 0x01]]));
  const funcs = section(3, vector([[0]]));
  const exports = section(7, vector([[...name('gemm'), 0x00, 0x00]]));
  const code = section(10, vector([gemmBody().encode()]));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imports, ...funcs, ...exports, ...code]);
}

/** The part of the WebAssembly API used here (the project's TypeScript libraries do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (limits: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

/** The compiled module, or null where this runtime has no WebAssembly SIMD. Compiled once per thread. */
function gemmModule(): object | null {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = wasm !== undefined && wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/** Doubles in a WebAssembly page. */
const PAGE_DOUBLES = 65536 / 8;

/**
 * A memory of at least `doubles` doubles (it never grows, so views into it stay valid) with the kernel bound to
 * it; null where WebAssembly SIMD is missing (the callers then run their plain loops, which give the same
 * numbers).
 */
export function createGemm(doubles: number): { readonly memory: Float64Array; readonly gemm: Gemm } | null {
  const mod = gemmModule();
  if (mod === null) return null;
  const pages = Math.max(1, Math.ceil(doubles / PAGE_DOUBLES));
  const memory = new wasm!.Memory({ initial: pages, maximum: pages });
  const instance = new wasm!.Instance(mod, { m: { memory } });
  return { memory: new Float64Array(memory.buffer), gemm: instance.exports['gemm'] as Gemm };
}

/** Lays arrays out one after another in a memory of doubles: offsets first, views once the memory exists. */
export class Layout {
  size = 0;
  take(n: number): number {
    const at = this.size;
    // Each array starts on a 16-byte boundary (two doubles), for the kernel's vector loads.
    this.size += n + (n & 1);
    return at;
  }
}

/** A view of `length` doubles at `offset` (in doubles) of `memory`. */
export function viewAt(memory: Float64Array, offset: number, length: number): Float64Array {
  return new Float64Array(memory.buffer, memory.byteOffset + offset * 8, length);
}

/** A plain loop of what the kernel computes, on a Float64Array: its reference in tests and its fallback. */
export function gemmPlain(mem: Float64Array, c: number, a: number, b: number, bias: number, rows: number, k: number, n: number, ars: number, acs: number): void {
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < n; o++) {
      let s = bias >= 0 ? mem[bias + o]! : 0;
      for (let i = 0; i < k; i++) s += mem[a + r * ars + i * acs]! * mem[b + i * n + o]!;
      mem[c + r * n + o] = s;
    }
  }
}
