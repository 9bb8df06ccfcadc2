// θ files written by meta-training (theta-latest, theta-best): the learned-optimizer weights format
// of src/learned/weights.ts, with the provenance fields meta-training knows filled in.
import type { Params } from '../engine/tensor.js';
import type { LearnedOptimizer } from '../learned/learned-optimizer.js';
import { loadWeights, saveWeights, type Provenance } from '../learned/weights.js';

/** Free provenance fields filled by meta-training. */
export interface ThetaProvenance {
  task?: string;
  estimator?: string;
  settings?: Record<string, unknown>;
  outerSteps?: number;
  evalLoss?: number | null;
  date?: string;
  command?: string;
}

/** Writes θ atomically in the weights format (safetensors with the manifest in its header). */
export function saveTheta(file: string, lopt: LearnedOptimizer, theta: Params, provenance: ThetaProvenance): void {
  const { estimator, settings, evalLoss, ...rest } = provenance;
  const fields: Provenance = { ...rest };
  if (estimator !== undefined || settings !== undefined) fields.estimator = { kind: estimator, ...settings };
  if (evalLoss !== undefined && evalLoss !== null) fields.evalLoss = evalLoss;
  saveWeights(file, lopt, theta, fields);
}

export function loadTheta(file: string): { optimizer: string; theta: Params; provenance: Provenance } {
  const weights = loadWeights(file);
  return { optimizer: weights.optimizer, theta: weights.theta, provenance: weights.provenance };
}
