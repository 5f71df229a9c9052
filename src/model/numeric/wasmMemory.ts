/** WebAssembly for the MLP kernels, training (gemmWasm.ts) and prediction (gemvWasm.ts): the memory layout of doubles they share, compiling a module once, and binding it to a memory. */

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

/** The part of the WebAssembly API used here (the project's TypeScript libraries do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (limits: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** Doubles in a WebAssembly page. */
const PAGE_DOUBLES = 65536 / 8;

/**
 * A module compiled on first use, once per thread, from the bytes `assemble` gives; null where this runtime has
 * no WebAssembly SIMD.
 */
export function lazyModule(assemble: () => Uint8Array): () => object | null {
  let compiled: object | null | undefined;
  return () => {
    if (compiled === undefined) {
      const bytes = assemble();
      compiled = wasm !== undefined && wasm.validate(bytes) ? new wasm.Module(bytes) : null;
    }
    return compiled;
  };
}

/**
 * An instance of `mod` bound to a memory of at least `doubles` doubles (it never grows, so views into it stay
 * valid), or null: each memory reserves address space beyond its size (the runtime's guard regions), and a
 * process holding many thousands of compiled MLP models can run out of it. Callers then run their plain loops,
 * which give the same numbers.
 */
export function instantiateWithMemory(mod: object, doubles: number): { readonly memory: Float64Array; readonly exports: Record<string, unknown> } | null {
  const pages = Math.max(1, Math.ceil(doubles / PAGE_DOUBLES));
  let memory: { readonly buffer: ArrayBuffer };
  try {
    memory = new wasm!.Memory({ initial: pages, maximum: pages });
  } catch {
    return null;
  }
  const instance = new wasm!.Instance(mod, { m: { memory } });
  return { memory: new Float64Array(memory.buffer), exports: instance.exports };
}
