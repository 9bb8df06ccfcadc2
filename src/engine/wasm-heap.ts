// Moving a kernel call's arrays into and out of a WebAssembly module's linear memory. Each call stages
// its arrays, back to back and 16-byte aligned, in one scratch region that the module keeps and grows
// (lopt_scratch in wasm/src/lopt_wasm.c), runs the kernel on pointers into it and copies the outputs
// back: one memcpy per array each way, and no allocation for the arguments per call. The arrays stay the
// caller's: lopt's optimizers hold their state in ordinary Float32Arrays, which a module cannot see.

export type HeapArray = Float32Array | Float64Array | Int32Array;

/** What the heap needs from the module's exports. */
export interface HeapExports {
  memory: WebAssembly.Memory;
  /** A 16-byte-aligned region of at least `bytes` bytes (0 when memory cannot grow). */
  lopt_scratch(bytes: number): number;
}

/** bytes rounded up to a multiple of 16 (arithmetic, not bitwise: sizes may pass 2^31). */
const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** A view of the module's memory per element type, renewed when memory grows (which detaches the old). */
interface Views {
  buffer: ArrayBuffer;
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
}

export class WasmHeap {
  private views: Views | undefined;

  constructor(private readonly exports: HeapExports) {}

  /** The views of the memory as it is now (a grown memory has a new buffer). */
  private current(): Views {
    const buffer = this.exports.memory.buffer;
    if (this.views?.buffer !== buffer) {
      this.views = { buffer, f32: new Float32Array(buffer), f64: new Float64Array(buffer), i32: new Int32Array(buffer) };
    }
    return this.views;
  }

  /** The view of the module's memory with a's element type. */
  private viewOf(a: HeapArray): Float32Array | Float64Array | Int32Array {
    const views = this.current();
    return a instanceof Float32Array ? views.f32 : a instanceof Float64Array ? views.f64 : views.i32;
  }

  /**
   * Places the arrays in the scratch region and returns their addresses, in order. `inputs` are
   * copied in; `outputs` (written by the kernel before it reads them, or not read) only get room.
   */
  stage(inputs: readonly HeapArray[], outputs: readonly HeapArray[] = []): number[] {
    let total = 0;
    for (const a of inputs) total += align(a.byteLength);
    for (const a of outputs) total += align(a.byteLength);
    // wasm32 addresses 4 GiB; a larger total would wrap around in lopt_scratch's 32-bit size.
    const base = total < 2 ** 32 - 2 ** 16 ? this.exports.lopt_scratch(total) : 0;
    if (base === 0 && total > 0) throw new RangeError(`wasm backend: out of memory for ${total} bytes of kernel arguments`);
    const addresses: number[] = [];
    let at = base;
    for (const a of inputs) {
      this.viewOf(a).set(a, at / a.BYTES_PER_ELEMENT);
      addresses.push(at);
      at += align(a.byteLength);
    }
    for (const a of outputs) {
      addresses.push(at);
      at += align(a.byteLength);
    }
    return addresses;
  }

  /** Copies a.length elements at `address` back into a (after the kernel ran). */
  unstage(address: number, a: HeapArray): void {
    const from = address / a.BYTES_PER_ELEMENT;
    a.set(this.viewOf(a).subarray(from, from + a.length));
  }
}
