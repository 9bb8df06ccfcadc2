// The linear memory of the WebAssembly kernels. The module imports it (env.memory, linked with
// --import-memory by scripts/build-wasm.mjs), so the loader chooses its kind:
// - shared, where this JavaScript engine can make one (Node; Chromium, even without cross-origin
//   isolation): growing a shared memory keeps the typed arrays that view it, so arrays can live in the
//   module's memory for good ("resident", Backend.allocate) and kernels use them without copies;
// - otherwise unshared, where growth detaches every view, so each call copies its arrays in and out.
// The module is linked for an unshared memory; the shared kind sets the "shared" bit of its memory
// import's limits (WebAssembly core spec, binary format, §5.3.1 limits / threads proposal) in a copy of
// the bytes. Nothing else differs: the kernels use no atomics.
//
// No Node API is used here (the browser bundle and Node both load through it).

/** The import section's id and the memory import's kind in the binary format. */
const IMPORT_SECTION = 2;
const MEMORY_KIND = 2;
/** Limits flags: bit 0 has a maximum, bit 1 shared. */
const HAS_MAXIMUM = 1;
const SHARED = 2;

/** The memory import's limits and where its flags byte is in the module's bytes. */
export interface MemoryImport {
  flagsAt: number;
  initial: number;
  maximum: number | undefined;
}

/** An unsigned LEB128 number at `at`: its value and the offset after it. */
function leb128(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (at >= bytes.length) throw new Error('the module ends inside a number');
    const byte = bytes[at++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 128;
  }
}

/** A name (length, then UTF-8 bytes): the offset after it. */
function skipName(bytes: Uint8Array, at: number): number {
  const [length, next] = leb128(bytes, at);
  return next + length;
}

/** The module's memory import, or undefined when it imports none. */
export function findMemoryImport(bytes: Uint8Array): MemoryImport | undefined {
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, start] = leb128(bytes, at + 1);
    if (id === IMPORT_SECTION) {
      let [count, p] = leb128(bytes, start);
      for (; count > 0; count--) {
        p = skipName(bytes, skipName(bytes, p));
        const kind = bytes[p++];
        if (kind === MEMORY_KIND) {
          const flagsAt = p;
          const [initial, afterInitial] = leb128(bytes, p + 1);
          const maximum = bytes[flagsAt] & HAS_MAXIMUM ? leb128(bytes, afterInitial)[0] : undefined;
          return { flagsAt, initial, maximum };
        }
        // Other import kinds: a function's type index, a table's type and limits, a global's type.
        if (kind === 0) p = leb128(bytes, p)[1];
        else if (kind === 1) p = skipLimits(bytes, p + 1);
        else if (kind === 3) p += 2;
        else throw new Error(`unknown import kind ${kind}`);
      }
      return undefined;
    }
    at = start + size;
  }
  return undefined;
}

function skipLimits(bytes: Uint8Array, at: number): number {
  const hasMaximum = bytes[at] & HAS_MAXIMUM;
  let p = leb128(bytes, at + 1)[1];
  if (hasMaximum) p = leb128(bytes, p)[1];
  return p;
}

/** A module's bytes with the memory it imports, ready to instantiate with `{ env: { memory } }`. */
export interface KernelModuleSetup {
  bytes: Uint8Array;
  memory: WebAssembly.Memory;
  /** Whether the memory is shared, so that arrays may live in it (Backend.allocate). */
  shared: boolean;
}

/**
 * The ways to instantiate the module, best first: with a shared memory where this engine can create
 * one, then with an unshared memory. Throws when the module imports no memory.
 */
export function kernelModuleSetups(bytes: Uint8Array): KernelModuleSetup[] {
  const found = findMemoryImport(bytes);
  if (!found) throw new Error('the WebAssembly kernels import no memory (rebuild them: npm run build:wasm)');
  const { flagsAt, initial, maximum } = found;
  const setups: KernelModuleSetup[] = [];
  if (maximum !== undefined) {
    try {
      const memory = new WebAssembly.Memory({ initial, maximum, shared: true });
      const sharedBytes = bytes.slice();
      sharedBytes[flagsAt] |= SHARED;
      setups.push({ bytes: sharedBytes, memory, shared: true });
    } catch {
      // No shared memory here (an engine without the threads feature, or one that ties it to
      // cross-origin isolation): the unshared setup below is the only one.
    }
  }
  const unsharedBytes = bytes[flagsAt] & SHARED ? bytes.slice() : bytes;
  unsharedBytes[flagsAt] &= ~SHARED;
  setups.push({ bytes: unsharedBytes, memory: new WebAssembly.Memory(maximum === undefined ? { initial } : { initial, maximum }), shared: false });
  return setups;
}

/** The kernels' instance, the memory it runs in and whether that memory is shared. */
export interface WasmKernels {
  instance: WebAssembly.Instance;
  memory: WebAssembly.Memory;
  shared: boolean;
}

/** Instantiates the kernels synchronously (Node: any size; browsers refuse large modules on the main thread). */
export function instantiateKernelsSync(bytes: Uint8Array): WasmKernels {
  let lastError: unknown;
  for (const setup of kernelModuleSetups(bytes)) {
    try {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(setup.bytes as Uint8Array<ArrayBuffer>), { env: { memory: setup.memory } });
      return { instance, memory: setup.memory, shared: setup.shared };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** Instantiates the kernels asynchronously (browsers). */
export async function instantiateKernels(bytes: Uint8Array): Promise<WasmKernels> {
  let lastError: unknown;
  for (const setup of kernelModuleSetups(bytes)) {
    try {
      const { instance } = await WebAssembly.instantiate(setup.bytes as Uint8Array<ArrayBuffer>, { env: { memory: setup.memory } });
      return { instance, memory: setup.memory, shared: setup.shared };
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
