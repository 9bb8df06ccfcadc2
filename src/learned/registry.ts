// The registry of learned optimizers: names, options, construction by name (`learned.get`).
import type { Backend } from '../engine/backend.js';
import { FC_LOPT_OPTIONS, fcLopt } from './fc-lopt.js';
import { FEATURE_MLP_LOPT_OPTIONS, featureMlpLopt } from './feature-mlp-lopt.js';
import type { LearnedOptimizer } from './learned-optimizer.js';
import { parseHparamArgs } from '../optimizers/hparams.js';
import { resolveOptions, type LearnedOptions, type OptionSpec } from './options.js';
import { SMALL_FC_LOPT_OPTIONS, smallFcLopt } from './small-fc-lopt.js';
import { NN_ADAM_OPTIONS, nnAdam } from './nn-adam.js';
import { RNN_FC_LOPT_OPTIONS, rnnFcLopt } from './rnn-fc-lopt.js';
import { learnableLrSgd } from './learnable-sgd.js';
import type { Params } from '../engine/tensor.js';
import { loadWeights, metaTrainedOn, pretrainedWeightsPath, saveWeights, thetaFor, type Provenance } from './weights.js';

export const LEARNED_OPTIMIZER_NAMES = ['small_fc_lopt', 'feature_mlp_lopt', 'fc_lopt', 'rnn_fc_lopt', 'nn_adam', 'learnable_lr_sgd'] as const;
export type LearnedOptimizerName = (typeof LEARNED_OPTIMIZER_NAMES)[number];

interface Entry {
  description: string;
  specs: readonly OptionSpec[];
  create(options: Readonly<Record<string, unknown>>, opts: { backend?: Backend }): LearnedOptimizer;
}

const ENTRIES: Record<LearnedOptimizerName, Entry> = {
  small_fc_lopt: {
    description: 'per-parameter MLP (39 → 4 → 4 → 2) over momentum, rms and AdaFactor features with learned decays (197 meta-parameters)',
    specs: SMALL_FC_LOPT_OPTIONS,
    create: smallFcLopt,
  },
  feature_mlp_lopt: {
    description: "small_fc_lopt's per-parameter MLP with a chosen feature set (paper §4.2) and width",
    specs: FEATURE_MLP_LOPT_OPTIONS,
    create: featureMlpLopt,
  },
  fc_lopt: {
    description: 'per-parameter MLP (19 → 32 → 32 → 2) over g, p and six momenta (LO MLPLOpt, 1,762 meta-parameters)',
    specs: FC_LOPT_OPTIONS,
    create: fcLopt,
  },
  rnn_fc_lopt: {
    description: 'per-tensor LSTM (64) feeding a per-parameter MLP (54 → 32 → 32 → 18) (LO RNNMLPLOpt, 35,799 meta-parameters)',
    specs: RNN_FC_LOPT_OPTIONS,
    create: rnnFcLopt,
  },
  nn_adam: {
    description: 'per-tensor LSTM (32) controlling Adam hyperparameters (LO NNAdam, 6,856 meta-parameters)',
    specs: NN_ADAM_OPTIONS,
    create: nnAdam,
  },
  learnable_lr_sgd: {
    description: 'SGD whose one meta-parameter is log(learning rate) (for tests and examples of meta-training)',
    specs: [],
    create: (options) => learnableLrSgd(options),
  },
};

function entryOf(name: string): Entry {
  if (!Object.prototype.hasOwnProperty.call(ENTRIES, name)) {
    throw new Error(`unknown learned optimizer "${name}"; valid: ${LEARNED_OPTIMIZER_NAMES.join(', ')}`);
  }
  return ENTRIES[name as LearnedOptimizerName];
}

/** What `learned.load` returns. */
export interface LoadedWeights {
  optimizer: LearnedOptimizer;
  theta: Params;
  /** The manifest's provenance: free fields meta-training fills (task, estimator, outerSteps, …). */
  provenance: Provenance;
}

export const learned = {
  /** The registered names, in display order. */
  names: LEARNED_OPTIMIZER_NAMES as readonly LearnedOptimizerName[],

  has(name: string): name is LearnedOptimizerName {
    return Object.prototype.hasOwnProperty.call(ENTRIES, name);
  },

  describe(name: string): string {
    return entryOf(name).description;
  },

  /** Option specs (name, kind, default, choices or range, whether it shapes θ). */
  options(name: string): readonly OptionSpec[] {
    return entryOf(name).specs;
  },

  /** Validates options (values may be strings) and returns them complete with defaults. */
  resolve(name: string, options?: Readonly<Record<string, unknown>>): LearnedOptions {
    return resolveOptions(name, entryOf(name).specs, options);
  },

  /** Parses CLI `key=value` strings (repeated `--hparam`) into the options given (validated). */
  parseArgs(name: string, args: readonly string[]): LearnedOptions {
    const given = parseHparamArgs(args);
    const resolved = resolveOptions(name, entryOf(name).specs, given);
    const out: LearnedOptions = {};
    for (const key of Object.keys(given)) out[key] = resolved[key];
    return out;
  },

  /**
   * A learned optimizer by name. Unknown names and invalid options throw an Error whose one-line
   * message lists the valid choices. `backend` runs its kernels (default: getBackend()).
   */
  get(name: string, options?: Readonly<Record<string, unknown>>, opts: { backend?: Backend } = {}): LearnedOptimizer {
    return entryOf(name).create(options ?? {}, opts);
  },

  /**
   * A weights file (src/learned/weights.ts) as a ready learned optimizer, θ and the file's provenance
   * (where θ came from: the task it was meta-trained on, estimator settings, …; see `metaTrainedOn`).
   * The optimizer is built with the file's options, overridden by `options` where given; options that
   * shape θ must agree with the file. Every problem is one WeightsError naming the file.
   */
  load(file: string, opts: { options?: Readonly<Record<string, unknown>>; backend?: Backend } = {}): LoadedWeights {
    const weights = loadWeights(file);
    const entry = entryOf(weights.optimizer);
    const known = new Set(entry.specs.map((spec) => spec.name));
    const fromFile = Object.fromEntries(Object.entries(weights.options).filter(([key]) => known.has(key)));
    const optimizer = entry.create({ ...fromFile, ...(opts.options ?? {}) }, { backend: opts.backend });
    return { optimizer, theta: thetaFor(optimizer, weights, file), provenance: weights.provenance };
  },

  /** Writes θ of `optimizer` with its manifest to `file` (atomically). */
  save(file: string, optimizer: LearnedOptimizer, theta: Params, provenance: Provenance = {}): void {
    saveWeights(file, optimizer, theta, provenance);
  },

  /** The tasks θ was meta-trained on, from a provenance (`learned.load(file).provenance`); [] if it names none. */
  metaTrainedOn(provenance: Provenance | undefined | null): string[] {
    return metaTrainedOn(provenance);
  },

  /** Path of the shipped pretrained weights of `name`, or undefined while there are none. */
  pretrained(name: string): string | undefined {
    entryOf(name);
    return pretrainedWeightsPath(name);
  },
};
