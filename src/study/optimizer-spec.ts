// What the study runs as "an optimizer": a plain, serialisable spec (name, label, hyperparameters or
// options, where θ comes from) that worker threads and child processes turn into an Optimizer.
import { resolve as resolvePath } from 'node:path';
import type { Backend } from '../engine/backend.js';
import { keyFromSeed } from '../engine/random.js';
import { learned } from '../learned/registry.js';
import { loadWeights } from '../learned/weights.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import { optimizers } from '../optimizers/registry.js';
import { UNTRAINED_THETA_SEED } from './seeds.js';

export interface OptimizerSpec {
  /** Registry name: a hand-designed optimizer or a learned one. */
  optimizer: string;
  /** Display name: `adam`, `adam@2x`, `feature_mlp_lopt[features=m_0.9,hidden=4]`. */
  label: string;
  /** Complete hyperparameters (hand-designed) or options (learned), defaults filled in. */
  hparams: Record<string, unknown>;
  /** Learned optimizers with meta-trained weights: the weights file (absolute path). */
  weightsFile: string | null;
  /** Identity of θ: the weights file's data sha256, `untrained:<seed>`, or null (hand-designed). */
  weights: string | null;
  /** 1 for hand-designed optimizers and meta-trained weights; 0 for an untrained learned optimizer. */
  trained: boolean;
}

export function isHandDesigned(name: string): boolean {
  return optimizers.has(name);
}

export function isKnownOptimizer(name: string): boolean {
  return optimizers.has(name) || learned.has(name);
}

/** A hand-designed optimizer at the given hyperparameters (validated; defaults filled in). */
export function handDesignedSpec(name: string, hparams: Record<string, unknown> = {}, label: string = name): OptimizerSpec {
  return { optimizer: name, label, hparams: { ...optimizers.resolve(name, hparams) }, weightsFile: null, weights: null, trained: true };
}

/** The label of a learned optimizer: its name; feature_mlp_lopt also names its feature set and width. */
export function learnedLabel(name: string, options: Record<string, unknown>): string {
  if (name !== 'feature_mlp_lopt') return name;
  return `feature_mlp_lopt[features=${options.features},hidden=${options.hidden}]`;
}

/**
 * A learned optimizer with θ from `weightsFile`, else the shipped pretrained weights, else an
 * untrained θ drawn from UNTRAINED_THETA_SEED (trained = false: kept off the Pareto frontier).
 */
export function learnedSpec(name: string, options: Record<string, unknown> = {}, weightsFile?: string): OptimizerSpec {
  if (!learned.has(name)) throw new Error(`unknown learned optimizer "${name}"; valid: ${learned.names.join(', ')}`);
  const file = weightsFile ?? learned.pretrained(name);
  if (file !== undefined) {
    const absolute = resolvePath(file);
    const loaded = learned.load(absolute, { options });
    if (loaded.optimizer.name !== name) throw new Error(`${file} holds weights for ${loaded.optimizer.name}, not ${name}`);
    const hparams = { ...loaded.optimizer.options };
    return { optimizer: name, label: learnedLabel(name, hparams), hparams, weightsFile: absolute, weights: loadWeights(absolute).sha256, trained: true };
  }
  const hparams = { ...learned.resolve(name, options) };
  return { optimizer: name, label: learnedLabel(name, hparams), hparams, weightsFile: null, weights: `untrained:${UNTRAINED_THETA_SEED}`, trained: false };
}

/** Any optimizer by name: hand-designed at `hparams`, or learned with `weightsFile` (see learnedSpec). */
export function optimizerSpec(name: string, hparams: Record<string, unknown> = {}, weightsFile?: string): OptimizerSpec {
  if (isHandDesigned(name)) {
    if (weightsFile !== undefined) throw new Error(`weights apply to learned optimizers only (${name} is hand-designed)`);
    return handDesignedSpec(name, hparams);
  }
  return learnedSpec(name, hparams, weightsFile);
}

/** The same optimizer run for `multiplier` times the steps, labelled `name@Nx`. */
export function multipliedSpec(spec: OptimizerSpec, multiplier: number): OptimizerSpec {
  return { ...spec, label: `${spec.label}@${multiplier}x` };
}

/** Builds the optimizer a spec describes (in any thread or process). */
export function buildOptimizer(spec: OptimizerSpec, backend: Backend): Optimizer<unknown> {
  if (isHandDesigned(spec.optimizer)) return optimizers.get(spec.optimizer, spec.hparams, { backend }) as Optimizer<unknown>;
  if (spec.weightsFile !== null) {
    const loaded = learned.load(spec.weightsFile, { options: spec.hparams, backend });
    return loaded.optimizer.optFn(loaded.theta);
  }
  const lo = learned.get(spec.optimizer, spec.hparams, { backend });
  return lo.optFn(lo.init(keyFromSeed(UNTRAINED_THETA_SEED)));
}
