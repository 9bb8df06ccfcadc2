// The wasm backend in Node (`--backend wasm`, LOPT_BACKEND=wasm): wasm/lopt_kernels.wasm from the
// package, compiled and instantiated synchronously (Node allows that for any size; browsers do not,
// see src/browser/init.ts). Loaded once per process.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Backend } from './backend.js';
import { wasmBackend } from './wasm.js';
import { instantiateKernelsSync } from './wasm-memory.js';

/** The committed module, relative to the package root (this file runs as dist/src/engine/wasm-node.js). */
export const WASM_KERNELS_FILE = fileURLToPath(new URL('../../../wasm/lopt_kernels.wasm', import.meta.url));

let cached: Backend | undefined;

/** The wasm backend; throws an Error with a short reason when the module cannot load. */
export function loadWasmBackend(): Backend {
  if (cached) return cached;
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(WASM_KERNELS_FILE));
  } catch (error) {
    throw new Error(`${WASM_KERNELS_FILE} cannot be read (${(error as Error).message}); run "npm run build:wasm" in a clone`);
  }
  cached = wasmBackend(instantiateKernelsSync(bytes));
  return cached;
}
