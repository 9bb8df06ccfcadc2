// lopt/browser: lopt's optimizers in a web page, on the WebAssembly build of the engine's kernels.
/**
 * lopt in the browser, `import { init, getOptimizer, learned } from 'lopt/browser'`: one ES module
 * (dist/browser/lopt.js) with the WebAssembly kernels embedded. Call `await init()` once, then create
 * optimizers as in Node; learned optimizers load their weights from bytes or a URL.
 *
 * @module lopt/browser
 */
export { init, backendName, type InitOptions } from './init.js';
export { getBackend, type BackendChoice } from './select.js';
export { learned, type LoadOptions } from './learned.js';
export { getOptimizer, optimizers, OPTIMIZER_NAMES } from '../optimizers/registry.js';
export type { OptimizerHparams, OptimizerName } from '../optimizers/registry.js';
export type { Optimizer, OptimizerInitOptions, UpdateContext } from '../optimizers/optimizer.js';
export type { LearnedOptimizer } from '../learned/learned-optimizer.js';
export type { LoadedWeights } from '../learned/registry.js';
export type { Backend, BackendInfo, BackendName } from '../engine/backend.js';
export { referenceBackend } from '../engine/reference.js';
export * from '../engine/tensor.js';
export * as random from '../engine/random.js';
