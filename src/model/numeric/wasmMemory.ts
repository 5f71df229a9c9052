/** Arrays laid out in one WebAssembly memory of doubles: the MLP's training (gemmWasm.ts) and prediction (gemvWasm.ts) kernels share the layout. */

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
