// What every hand-designed optimizer factory takes and returns.
import type { Backend } from '../engine/backend.js';
import { getBackend } from '../engine/select.js';
import { plainArray, type Allocate } from '../engine/tensor.js';
import { withGradientClip } from './clip.js';
import type { Optimizer } from './optimizer.js';

export interface OptimizerFactoryOptions {
  /** Numerical backend for the fused kernels; default `getBackend()` (native when it loads). */
  backend?: Backend;
}

/** An optimizer together with its complete, validated hyperparameters. */
export type HandDesignedOptimizer<S, H> = Optimizer<S> & { readonly hparams: Readonly<H> };

export function backendOf(opts: OptimizerFactoryOptions | undefined): Backend {
  return opts?.backend ?? getBackend();
}

/** How the backend makes arrays its kernels use in place (Backend.allocate), else plain arrays. */
export function allocatorOf(backend: Backend): Allocate {
  return backend.allocate ? (length) => backend.allocate!(length) : plainArray;
}

/** Attaches the hyperparameters and, when `gradClip` > 0, wraps with the gradient clip. */
export function finishOptimizer<S, H extends { gradClip: number }>(
  core: Optimizer<S>, hparams: H, backend: Backend,
): HandDesignedOptimizer<S, H> {
  const frozen = Object.freeze({ ...hparams });
  const optimizer = hparams.gradClip > 0 ? withGradientClip(core, hparams.gradClip, { backend }) : core;
  return Object.assign(optimizer, { hparams: frozen });
}
