// The registry of gradient estimators: adding one is a module under this folder and a line here.
import type { Estimator } from '../estimator.js';
import { fes } from './fes.js';
import { pes } from './pes.js';
import { tes } from './tes.js';

const REGISTRY = { pes, tes, fes } satisfies Record<string, Estimator>;

/** The name of a registered estimator ('pes' | 'tes' | 'fes'). */
export type EstimatorKind = keyof typeof REGISTRY;

/** The registered estimators' names, in registration order. */
export const ESTIMATOR_KINDS = Object.freeze(Object.keys(REGISTRY) as EstimatorKind[]);

export function isEstimatorKind(name: unknown): name is EstimatorKind {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(REGISTRY, name);
}

/** The estimator of that name; throws for an unknown one. */
export function getEstimator(name: string): Estimator {
  if (!isEstimatorKind(name)) throw new Error(`unknown estimator ${JSON.stringify(name)} (known: ${estimatorList()})`);
  return REGISTRY[name];
}

/** The names as a sentence: "pes, tes or fes". */
export function estimatorList(): string {
  const names = [...ESTIMATOR_KINDS];
  return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

export { pes, tes, fes };
export type { Estimator };
