// getBackend for the browser bundle, which uses this module in place of src/engine/select.ts (that
// one loads the Node addon): every optimizer created without an explicit backend runs on the one
// init() chose, the WebAssembly kernels or, where they cannot load, the TypeScript reference.
import type { Backend, BackendName } from '../engine/backend.js';
import { referenceBackend } from '../engine/reference.js';

export type BackendChoice = BackendName | 'auto';

let active: Backend | undefined;

/** Makes `backend` the one getBackend() returns (init() calls it). */
export function setActiveBackend(backend: Backend): void {
  active = backend;
}

/** The backend init() chose, or undefined before init() finished. */
export function activeBackend(): Backend | undefined {
  return active;
}

/** The backend optimizers use: init()'s choice ('reference' gives the TypeScript one at any time). */
export function getBackend(choice: BackendChoice = 'auto'): Backend {
  if (choice === 'reference') return referenceBackend;
  if (choice === 'native') throw new Error('lopt/browser: the native backend is a Node addon; in a browser use wasm (init()) or reference');
  if (!active) throw new Error('lopt/browser: no backend yet: call `await init()` first (it loads the WebAssembly kernels)');
  if (choice === 'wasm' && active.name !== 'wasm') throw new Error('lopt/browser: the WebAssembly kernels did not load in this browser (init() fell back to reference)');
  return active;
}
