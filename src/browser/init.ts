// init() and backendName() of lopt/browser: loading the WebAssembly kernels (embedded in the bundle),
// or falling back to the TypeScript backend with one console line when this browser cannot run them
// (no WebAssembly, or no 128-bit SIMD: Chrome 91, Firefox 89, Safari 16.4 and later have it).
import type { BackendName } from '../engine/backend.js';
import { referenceBackend } from '../engine/reference.js';
import { wasmBackend } from '../engine/wasm.js';
import { instantiateKernels } from '../engine/wasm-memory.js';
import { wasmKernelBytes } from './kernels-wasm.js';
import { activeBackend, setActiveBackend } from './select.js';

export interface InitOptions {
  /** 'wasm' (default): the WebAssembly kernels, else the fallback; 'reference': the TypeScript backend. */
  backend?: 'wasm' | 'reference';
}

let loading: Promise<BackendName> | undefined;

async function loadWasm(): Promise<BackendName> {
  try {
    if (!wasmKernelBytes) throw new Error('this build holds no WebAssembly kernels (use the bundle, dist/browser/lopt.js)');
    // Asynchronous: browsers refuse to compile a module of this size synchronously on the main thread.
    setActiveBackend(wasmBackend(await instantiateKernels(wasmKernelBytes)));
  } catch (error) {
    console.warn(`lopt: WebAssembly kernels unavailable (${(error as Error).message ?? error}); using the TypeScript backend`);
    setActiveBackend(referenceBackend);
  }
  return backendName();
}

/**
 * Loads the backend every optimizer runs on (call once, before creating optimizers): the WebAssembly
 * kernels, or, where they cannot load, the TypeScript backend, which one console line announces.
 * Resolves to the backend's name. Later calls return the first call's result.
 */
export function init(options: InitOptions = {}): Promise<BackendName> {
  if (options.backend !== undefined && options.backend !== 'wasm' && options.backend !== 'reference') {
    return Promise.reject(new Error(`lopt/browser: init backend "${options.backend}" is not one of wasm, reference`));
  }
  if (!loading) {
    if (options.backend === 'reference') setActiveBackend(referenceBackend);
    loading = options.backend === 'reference' ? Promise.resolve(backendName()) : loadWasm();
  }
  return loading;
}

/** The name of the backend init() chose; throws before init() was called. */
export function backendName(): BackendName {
  const backend = activeBackend();
  if (!backend) throw new Error('lopt/browser: call `await init()` first');
  return backend.name;
}
