// Moving a kernel call's arrays into and out of a WebAssembly module's linear memory. Each call stages
// its arrays, back to back and 16-byte aligned, in one scratch region that the module keeps and grows
// (lopt_scratch in wasm/src/lopt_wasm.c), runs the kernel on pointers into it and copies the outputs
// back: one memcpy per array each way, and no allocation for the arguments per call.
//
// Arrays that already live in the module's memory ("resident": made by `allocate`, possible only when
// the memory is shared, see wasm-memory.ts) are neither copied in nor out: the kernel gets their
// address. Optimizers allocate their state and parameters that way (Backend.allocate), so that a step
// copies only the gradients in.

export type HeapArray = Float32Array | Float64Array | Int32Array;

/** What the heap needs from the module's exports. */
export interface HeapExports {
  /** A 16-byte-aligned region of at least `bytes` bytes (0 when memory cannot grow). */
  lopt_scratch(bytes: number): number;
  /** A 16-byte-aligned block of `bytes` bytes for an array that stays (0 when memory cannot grow). */
  lopt_alloc(bytes: number): number;
  lopt_free(address: number): void;
}

/** bytes rounded up to a multiple of 16 (arithmetic, not bitwise: sizes may pass 2^31). */
const align = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/** wasm32 addresses 4 GiB; a larger request would wrap around in the module's 32-bit size. */
const MAX_REQUEST = 2 ** 32 - 2 ** 16;

/** A view of the module's memory per element type, renewed when memory grows (which detaches the old). */
interface Views {
  buffer: ArrayBufferLike;
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
}

export class WasmHeap {
  private views: Views | undefined;
  /** Every buffer the shared memory has shown (each growth shows a new one over the same memory). */
  private readonly memoryBuffers = new WeakSet<ArrayBufferLike>();
  /** Frees a resident array's block once the array itself is collected. */
  private readonly blocks: FinalizationRegistry<number>;

  /** `shared`: whether `memory` is shared, which resident arrays need. */
  constructor(private readonly exports: HeapExports, private readonly memory: WebAssembly.Memory, readonly shared: boolean) {
    this.blocks = new FinalizationRegistry((address) => exports.lopt_free(address));
  }

  /** The views of the memory as it is now (a grown memory has a new buffer). */
  private current(): Views {
    const buffer = this.memory.buffer;
    if (this.views?.buffer !== buffer) {
      this.views = { buffer, f32: new Float32Array(buffer), f64: new Float64Array(buffer), i32: new Int32Array(buffer) };
      if (this.shared) this.memoryBuffers.add(buffer);
    }
    return this.views;
  }

  /** The view of the module's memory with a's element type. */
  private viewOf(a: HeapArray): Float32Array | Float64Array | Int32Array {
    const views = this.current();
    return a instanceof Float32Array ? views.f32 : a instanceof Float64Array ? views.f64 : views.i32;
  }

  /** Whether a lives in the module's memory (then its address is its byteOffset). */
  isResident(a: HeapArray): boolean {
    return this.shared && this.memoryBuffers.has(a.buffer);
  }

  /**
   * A zeroed Float32Array of `length` elements in the module's memory, which kernels use in place; its
   * block is freed when the array is collected (a subarray of it does not keep the block). Without a
   * shared memory, an ordinary Float32Array.
   */
  allocate(length: number): Float32Array {
    if (!this.shared || length === 0) return new Float32Array(length);
    const bytes = 4 * length;
    const address = bytes < MAX_REQUEST ? this.exports.lopt_alloc(bytes) : 0;
    if (address === 0) throw new RangeError(`wasm backend: out of memory for an array of ${length} elements`);
    const array = new Float32Array(this.current().buffer, address, length);
    array.fill(0);
    this.blocks.register(array, address);
    return array;
  }

  /**
   * The addresses of the arrays, in order. Resident arrays give their own; the others are placed in
   * the scratch region: `inputs` are copied in, `outputs` (written by the kernel before it reads them,
   * or not read) only get room.
   */
  stage(inputs: readonly HeapArray[], outputs: readonly HeapArray[] = []): number[] {
    let total = 0;
    for (const a of inputs) if (!this.isResident(a)) total += align(a.byteLength);
    for (const a of outputs) if (!this.isResident(a)) total += align(a.byteLength);
    const base = total < MAX_REQUEST ? this.exports.lopt_scratch(total) : 0;
    if (base === 0 && total > 0) throw new RangeError(`wasm backend: out of memory for ${total} bytes of kernel arguments`);
    const addresses: number[] = [];
    let at = base;
    for (const a of inputs) {
      if (this.isResident(a)) {
        addresses.push(a.byteOffset);
        continue;
      }
      this.viewOf(a).set(a, at / a.BYTES_PER_ELEMENT);
      addresses.push(at);
      at += align(a.byteLength);
    }
    for (const a of outputs) {
      if (this.isResident(a)) {
        addresses.push(a.byteOffset);
        continue;
      }
      addresses.push(at);
      at += align(a.byteLength);
    }
    return addresses;
  }

  /** Copies a.length elements at `address` back into a (after the kernel ran); nothing for a resident a. */
  unstage(address: number, a: HeapArray): void {
    if (this.isResident(a)) return;
    const from = address / a.BYTES_PER_ELEMENT;
    a.set(this.viewOf(a).subarray(from, from + a.length));
  }
}
