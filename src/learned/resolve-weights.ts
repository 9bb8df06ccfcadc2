// Where θ of a learned optimizer comes from when code (not the CLI) asks for one by name: given weights
// (a file path or the bytes of a weights file), else the shipped pretrained weights
// (`pretrained/<name>.safetensors`, the file `lopt train` uses), else an untrained initialisation
// drawn from a seed. `lopt train` (src/cli/optimizer-choice.ts) and `lopt/tfjs` both use it.
import type { Backend } from '../engine/backend.js';
import { foldIn, keyFromSeed, type Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import type { LearnedOptimizer } from './learned-optimizer.js';
import { learned } from './registry.js';
import { decodeWeights, thetaFor, WeightsError, type Provenance } from './weights.js';

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
  backend?: Backend;
}

/** The learned optimizer `name` with its θ; every problem with given weights is one WeightsError. */
export function resolveLearned(name: string, opts: ResolveLearnedOptions = {}): ResolvedLearned {
  const options = opts.options ?? {};
  learned.resolve(name, options); // unknown names and invalid options throw here
  const { weights, backend } = opts;
  if (typeof weights === 'string') {
    const loaded = learned.load(weights, { options, backend });
    if (loaded.optimizer.name !== name) throw new WeightsError(`${weights} holds weights for ${loaded.optimizer.name}, not ${name}`);
    return { optimizer: loaded.optimizer, theta: loaded.theta, source: weights, untrained: false, provenance: loaded.provenance };
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
  const shipped = learned.pretrained(name);
  if (shipped !== undefined) {
    const loaded = learned.load(shipped, { options, backend });
    return { optimizer: loaded.optimizer, theta: loaded.theta, source: shipped, untrained: false, provenance: loaded.provenance };
  }
  const seed = opts.seed ?? 0;
  const optimizer = learned.get(name, options, { backend });
  return { optimizer, theta: optimizer.init(untrainedThetaKey(seed)), source: `untrained (seed ${seed})`, untrained: true, provenance: {} };
}
