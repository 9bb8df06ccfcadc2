// Chooses the backend: an explicit name, else $LOPT_BACKEND, else native when the addon loads.
import type { Backend, BackendName } from './backend.js';
import { loadNativeBackend } from './native.js';
import { referenceBackend } from './reference.js';
import { loadWasmBackend } from './wasm-node.js';

export type BackendChoice = BackendName | 'auto';

let nativeCache: { backend?: Backend; error?: Error } | undefined;
let fallbackAnnounced = false;

/** The native backend, or the reason it cannot load (the load is tried once per process). */
export function tryNativeBackend(): { backend?: Backend; error?: Error } {
  if (!nativeCache) {
    try {
      nativeCache = { backend: loadNativeBackend() };
    } catch (error) {
      nativeCache = { error: error as Error };
    }
  }
  return nativeCache;
}

export function parseBackendChoice(value: string | undefined): BackendChoice {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'native' || value === 'wasm' || value === 'reference') return value;
  throw new Error(`unknown backend "${value}": use native, wasm, reference or auto`);
}

/**
 * The backend to use. `auto` (the default, unless $LOPT_BACKEND names one) is native when the addon
 * loads; otherwise one line on stderr says why and the reference backend runs. Asking for `native`
 * explicitly when it cannot load is an error. `wasm` is the WebAssembly build of the kernels
 * (src/engine/wasm.ts), never chosen by `auto`: native is faster wherever it loads.
 */
export function getBackend(choice: BackendChoice = parseBackendChoice(process.env.LOPT_BACKEND)): Backend {
  if (choice === 'reference') return referenceBackend;
  if (choice === 'wasm') return loadWasmBackend();
  const native = tryNativeBackend();
  if (native.backend) return native.backend;
  if (choice === 'native') {
    throw new Error(`the native backend cannot load (${native.error?.message}); run "npm rebuild lopt" after installing libopenblas-dev, or use --backend reference`);
  }
  if (!fallbackAnnounced) {
    fallbackAnnounced = true;
    process.stderr.write(`lopt: native backend unavailable (${native.error?.message}); using the reference backend\n`);
  }
  return referenceBackend;
}
