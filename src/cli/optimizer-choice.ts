// How `lopt train` turns --optimizer, --hparam, --lr and --weights into an optimizer: the hand-designed
// registry first, then the learned one (whose θ comes from --weights, else the shipped weights
// meta-trained on the task, else the shipped general-purpose weights, else an untrained initialisation
// from the seed, said in one line on stderr).
import type { Backend } from '../engine/backend.js';
import { learned } from '../learned/registry.js';
import { resolveLearned, type ResolvedLearned } from '../learned/resolve-weights.js';
import { WeightsError } from '../learned/weights.js';
import { composeOptimizer, compositionKeys, resolveComposition, splitCompositionHparams } from '../optimizers/composition-hparams.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { getOptimizer, OPTIMIZER_NAMES, optimizers } from '../optimizers/registry.js';
import { UsageError } from './errors.js';

export interface OptimizerChoice {
  optimizer: Optimizer<unknown>;
  /** The hyperparameters (hand-designed) or options (learned) as given, for the summary. */
  settings: Record<string, unknown>;
  /**
   * Learned optimizers: where θ came from (a file, or "untrained (seed S)"), its size and the tasks it
   * was meta-trained on as the file's provenance names them ([] for an untrained θ or when it names none).
   */
  theta?: { source: string; metaParams: number; metaTrainedOn: string[] };
}

export interface OptimizerRequest {
  name: string;
  hparams: Record<string, unknown>;
  lr?: number;
  weights?: string;
  seed: number;
  backend: Backend;
  /** The task to train: picks between shipped weights (see resolveLearned). */
  task?: string;
}

/** An unknown-key error of the optimizer's own hparams/options, with the composition keys added to the valid ones. */
function withCompositionKeys<T>(learnedOptimizer: boolean, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof Error && /^unknown (hyperparameter|option) "/.test(error.message)) {
      throw new UsageError(`${error.message}; or a composition key: ${compositionKeys(learnedOptimizer).join(', ')}`);
    }
    throw error;
  }
}

export function chooseOptimizer(request: OptimizerRequest): OptimizerChoice {
  const { name, backend } = request;
  if (optimizers.has(name)) {
    if (request.weights !== undefined) throw new UsageError(`--weights applies to learned optimizers only (${name} is hand-designed)`);
    const hparams = { ...request.hparams };
    if (request.lr !== undefined) hparams.learningRate = request.lr;
    // Composition keys (clipGlobalNorm, schedule, weightDecay, ...) chain transforms around the optimizer.
    const { composition, rest } = splitCompositionHparams(hparams, false);
    const settings = resolveComposition(composition, false);
    const base = withCompositionKeys(false, () => getOptimizer(name, rest, { backend }));
    const learningRate = typeof base.hparams.learningRate === 'number' ? base.hparams.learningRate : 1;
    return { optimizer: composeOptimizer(base, settings, { learningRate, backend }), settings: hparams };
  }
  if (!learned.has(name)) {
    throw new UsageError(`unknown optimizer "${name}"; valid: ${OPTIMIZER_NAMES.join(', ')} (hand-designed), ${learned.names.join(', ')} (learned)`);
  }
  if (request.lr !== undefined) throw new UsageError(`--lr does not apply to ${name}: learned optimizers have no learning rate (set options with --hparam)`);
  const { composition, rest } = splitCompositionHparams(request.hparams, true);
  const compose = resolveComposition(composition, true);
  let resolved: ResolvedLearned;
  try {
    resolved = withCompositionKeys(true, () => resolveLearned(name, { options: rest, weights: request.weights, seed: request.seed, backend, task: request.task }));
  } catch (error) {
    // A file holding another optimizer's weights is a usage error of --weights.
    if (error instanceof WeightsError && /holds weights for|^no shipped weights named/.test(error.message)) throw new UsageError(error.message);
    throw error;
  }
  const { optimizer: lo, theta, source, untrained, provenance } = resolved;
  if (untrained) {
    process.stderr.write(`lopt: no pretrained weights are shipped for ${name} yet; using an untrained initialisation of θ from seed ${request.seed} (pass --weights FILE for meta-trained weights)\n`);
  }
  return {
    optimizer: composeOptimizer(lo.optFn(theta), compose, { learningRate: 1, backend }),
    settings: { ...lo.options, ...composition },
    theta: { source, metaParams: lo.paramCount, metaTrainedOn: learned.metaTrainedOn(provenance) },
  };
}

/**
 * The one stderr line for a learned optimizer run on a task its θ was not meta-trained on, or
 * undefined when θ was meta-trained on `task` (or its provenance names no task).
 */
export function offTaskWarning(optimizerName: string, theta: OptimizerChoice['theta'], task: string): string | undefined {
  if (!theta || theta.metaTrainedOn.length === 0 || theta.metaTrainedOn.includes(task)) return undefined;
  return `lopt: ${optimizerName}'s weights were meta-trained on ${theta.metaTrainedOn.join(', ')}, not ${task}: expect worse results or divergence (the paper's §4.5, meta-generalization)`;
}
