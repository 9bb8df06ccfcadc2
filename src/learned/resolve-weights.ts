// Where θ of a learned optimizer comes from when code (not the CLI) asks for one by name: given weights
// (a file path, `pretrained:<file>` for a shipped file, or the bytes of a weights file), else the shipped
// pretrained weights, else an untrained initialisation drawn from a seed. Two files may be shipped:
// `pretrained/<name>.safetensors` (the default: small_fc_lopt's was meta-trained on fmnist-mlp) and
// `pretrained/<name>-general.safetensors` (meta-trained on a mixture of tasks), which is chosen when
// the task to train is one the default file was not meta-trained on. `lopt train`
// (src/cli/optimizer-choice.ts) and `lopt/tfjs` both use it.
import type { Backend } from '../engine/backend.js';
import { foldIn, keyFromSeed, type Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import type { LearnedOptimizer } from './learned-optimizer.js';
import { learned } from './registry.js';
import { decodeWeights, pretrainedWeightsPath, thetaFor, WeightsError, type Provenance } from './weights.js';

/** The key an untrained θ is drawn from: fold 1 of the seed (the same key `lopt train --seed S` uses). */
export function untrainedThetaKey(seed: number): Key {
  return foldIn(keyFromSeed(seed), 1);
}

export interface ResolvedLearned {
  optimizer: LearnedOptimizer;
  theta: Params;
  /** A file path, "bytes", the shipped file's path, or "untrained (seed S)". */
  source: string;
  /** True when θ is an untrained initialisation (no weights given, none shipped). */
  untrained: boolean;
  /** The weights' provenance ({} for an untrained θ). */
  provenance: Provenance;
}

export interface ResolveLearnedOptions {
  /** Learned-optimizer options (`hidden`, `features`, …); those that shape θ must agree with the file. */
  options?: Readonly<Record<string, unknown>>;
  /** A weights file path or its bytes; default: the shipped pretrained weights of `name`. */
  weights?: string | Uint8Array;
  /** Seed of the untrained θ used when no weights are given and none are shipped (default 0). */
  seed?: number;
  /**
   * The task θ will train, where known: with no weights given, a task the default shipped file was not
   * meta-trained on gets the shipped general-purpose file (`<name>-general`) where there is one.
   */
  task?: string;
  backend?: Backend;
}

/** The learned optimizer `name` with its θ; every problem with given weights is one WeightsError. */
export function resolveLearned(name: string, opts: ResolveLearnedOptions = {}): ResolvedLearned {
  const options = opts.options ?? {};
  learned.resolve(name, options); // unknown names and invalid options throw here
  const { weights, backend } = opts;
  if (typeof weights === 'string') {
    const file = weights.startsWith(PRETRAINED_PREFIX) ? shippedFile(name, weights.slice(PRETRAINED_PREFIX.length)) : weights;
    const loaded = learned.load(file, { options, backend });
    if (loaded.optimizer.name !== name) throw new WeightsError(`${weights} holds weights for ${loaded.optimizer.name}, not ${name}`);
    return { optimizer: loaded.optimizer, theta: loaded.theta, source: file, untrained: false, provenance: loaded.provenance };
  }
  if (weights instanceof Uint8Array) {
    const source = 'the given weights bytes';
    const decoded = decodeWeights(weights, source);
    if (decoded.optimizer !== name) throw new WeightsError(`${source} hold weights for ${decoded.optimizer}, not ${name}`);
    // As learned.load: the file's options, overridden by the given ones.
    const known = new Set(learned.options(name).map((spec) => spec.name));
    const fromFile = Object.fromEntries(Object.entries(decoded.options).filter(([key]) => known.has(key)));
    const optimizer = learned.get(name, { ...fromFile, ...options }, { backend });
    return { optimizer, theta: thetaFor(optimizer, decoded, source), source: 'bytes', untrained: false, provenance: decoded.provenance };
  }
  if (weights !== undefined) throw new TypeError(`weights must be a file path or a Uint8Array, got ${typeof weights}`);
  const shipped = shippedChoice(name, opts.task, options, backend);
  if (shipped !== undefined) return shipped;
  const seed = opts.seed ?? 0;
  const optimizer = learned.get(name, options, { backend });
  return { optimizer, theta: optimizer.init(untrainedThetaKey(seed)), source: `untrained (seed ${seed})`, untrained: true, provenance: {} };
}

/** `--weights pretrained:<file>` names a shipped weights file by its name without `.safetensors`. */
export const PRETRAINED_PREFIX = 'pretrained:';

/** The suffix of the shipped general-purpose weights' file name (`small_fc_lopt-general`). */
export const GENERAL_WEIGHTS_SUFFIX = '-general';

/** The path of the shipped file `stem` for optimizer `name`; a name that is not shipped is one WeightsError. */
function shippedFile(name: string, stem: string): string {
  const path = pretrainedWeightsPath(stem);
  if (path !== undefined) return path;
  const shipped = [name, `${name}${GENERAL_WEIGHTS_SUFFIX}`].filter((s) => pretrainedWeightsPath(s) !== undefined);
  throw new WeightsError(`no shipped weights named "${stem}"${shipped.length ? `; ${name} ships ${shipped.map((s) => PRETRAINED_PREFIX + s).join(' and ')}` : `; none are shipped for ${name}`}`);
}

/**
 * The shipped θ for a run on `task`: the default file, unless it was not meta-trained on `task` and a
 * general-purpose file is shipped; the general file alone where only it is shipped; undefined for none.
 */
function shippedChoice(name: string, task: string | undefined, options: Readonly<Record<string, unknown>>, backend?: Backend): ResolvedLearned | undefined {
  const resolved = (path: string): ResolvedLearned => {
    const loaded = learned.load(path, { options, backend });
    return { optimizer: loaded.optimizer, theta: loaded.theta, source: path, untrained: false, provenance: loaded.provenance };
  };
  const defaultPath = pretrainedWeightsPath(name);
  const generalPath = pretrainedWeightsPath(`${name}${GENERAL_WEIGHTS_SUFFIX}`);
  if (defaultPath === undefined) return generalPath === undefined ? undefined : resolved(generalPath);
  const chosen = resolved(defaultPath);
  const offTask = task !== undefined && !learned.metaTrainedOn(chosen.provenance).includes(task);
  return offTask && generalPath !== undefined ? resolved(generalPath) : chosen;
}
