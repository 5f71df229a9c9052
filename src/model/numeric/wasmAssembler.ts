/**
 * A minimal WebAssembly assembler: the few instructions (i32 address arithmetic, f64 and 128-bit SIMD loads,
 * stores and arithmetic, blocks and loops) that the MLP's kernels (gemmWasm.ts) are written in. Assembling the
 * module here needs no toolchain and downloads nothing; the bytes follow the WebAssembly 2.0 binary format.
 */
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;

export function uleb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function sleb(v: number): number[] {
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

export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const name = (text: string): number[] => [...uleb(text.length), ...[...text].map((c) => c.charCodeAt(0))];

/** A function body under construction: locals are declared as they are asked for. */
export class Body {
  readonly code: number[] = [];
  private readonly localTypes: number[] = [];
  /** `params`: the types of the function's parameters (locals 0 .. params.length - 1). */
  constructor(readonly params: readonly number[]) {}
  local(type: number): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
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
export const ADD = 0x6a;
export const MUL = 0x6c;
export const LT_S = 0x48;
export const LE_S = 0x4c;
export const GE_S = 0x4e;
export const SHL = 0x74;
export const F64_LOAD = [0x2b, 0x03, 0x00];
export const F64_STORE = [0x39, 0x03, 0x00];
export const F64_ADD = 0xa0;
export const F64_MUL = 0xa2;
export const v128Load = (offset: number) => [0xfd, 0x00, 0x03, ...uleb(offset)];
export const v128Store = (offset: number) => [0xfd, 0x0b, 0x03, ...uleb(offset)];
export const LOAD64_SPLAT = [0xfd, 0x0a, 0x03, 0x00];
export const F64X2_ADD = [0xfd, ...uleb(240)];
export const F64X2_MUL = [0xfd, ...uleb(242)];
export const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];

export const F64X2_SUB = [0xfd, ...uleb(241)];
export const F64X2_DIV = [0xfd, ...uleb(243)];
export const F64X2_SQRT = [0xfd, ...uleb(239)];
export const F64X2_LT = [0xfd, ...uleb(73)];
export const F64X2_LE = [0xfd, ...uleb(75)];
/** a & ~b */
export const V128_ANDNOT = [0xfd, ...uleb(79)];
export const F64X2_SPLAT = [0xfd, ...uleb(20)];

/** A module that imports its memory as "m" "memory" and exports `functions` by name. */
export function assembleModule(functions: readonly { readonly name: string; readonly body: Body }[]): Uint8Array {
  const types = section(1, vector(functions.map((f) => [0x60, ...vector(f.body.params.map((t) => [t])), 0x00])));
  // (import "m" "memory" (memory 1)): the caller's memory, at least one page.
  const imports = section(2, vector([[...name('m'), ...name('memory'), 0x02, 0x00, 0x01]]));
  const funcs = section(3, vector(functions.map((_, i) => uleb(i))));
  const exports = section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])));
  const code = section(10, vector(functions.map((f) => f.body.encode())));
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...imports, ...funcs, ...exports, ...code]);
}
