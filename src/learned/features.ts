// Feature sets of the per-parameter MLP learned optimizers: small_fc_lopt's and the paper's §4.2
// variants (App. D.3), by name.
//
// Every set has g and p first; then momenta m (decays `momentum`), second moments v (decays `rms`)
// with, when `mTimesRsqrtV`, m·rsqrt(v + 1e-6), then rsqrt(v + 1e-6); then, for each AdaFactor decay,
// the preconditioned gradient, the row and column accumulators and their rsqrt, and, when
// `mTimesFactors`, m·preconditioner (src/engine/mlp-lopt.ts mlpLoptFeatureNames has the exact order).
// Each feature is normalised over its tensor; LO's 11 tanh time features follow, unnormalised.

export interface FeatureSet {
  readonly name: string;
  readonly momentum: readonly number[];
  readonly rms: readonly number[];
  readonly adafactor: readonly number[];
  readonly mTimesRsqrtV: boolean;
  readonly mTimesFactors: boolean;
  /** Decays are learned offsets in θ (small_fc_lopt) instead of fixed. */
  readonly learnedDecays: boolean;
}

const ALL6 = [0.1, 0.5, 0.9, 0.99, 0.999, 0.9999];

function set(name: string, parts: Partial<Omit<FeatureSet, 'name'>>): FeatureSet {
  return {
    name, momentum: [], rms: [], adafactor: [], mTimesRsqrtV: false, mTimesFactors: false, learnedDecays: false, ...parts,
  };
}

function build(): Map<string, FeatureSet> {
  const sets: FeatureSet[] = [
    // LO's AdafacMLPLOpt: 3 momenta, 1 rms, 3 AdaFactor, learned decays (28 features).
    set('small_fc_lopt', {
      momentum: [0.9, 0.99, 0.999], rms: [0.999], adafactor: [0.9, 0.99, 0.999],
      mTimesRsqrtV: true, mTimesFactors: true, learnedDecays: true,
    }),
    set('grads_time_p', {}),
  ];
  for (const d of [0.1, 0.5, 0.9, 0.99, 0.999]) sets.push(set(`m_${d}`, { momentum: [d] }));
  sets.push(set('m_all', { momentum: [0.1, 0.5, 0.9, 0.99, 0.999] }));
  sets.push(set('m_mid2', { momentum: [0.5, 0.9] }));
  sets.push(set('m_mid3', { momentum: [0.5, 0.9, 0.99] }));
  for (const d of [0.1, 0.5, 0.9, 0.99, 0.999]) sets.push(set(`rms_${d}`, { rms: [d] }));
  sets.push(set('rms_all', { rms: ALL6 }));
  sets.push(set('rms_mid2', { rms: [0.9, 0.99] }));
  sets.push(set('rms_mid4', { rms: [0.5, 0.9, 0.99, 0.999] }));
  for (const d of [0.1, 0.5, 0.9, 0.99, 0.999]) sets.push(set(`m_rms_${d}`, { momentum: [d], rms: [d], mTimesRsqrtV: true }));
  sets.push(set('m_rms_all', { momentum: ALL6, rms: ALL6, mTimesRsqrtV: true }));
  sets.push(set('m_rms_mid2', { momentum: [0.9, 0.99], rms: [0.9, 0.99], mTimesRsqrtV: true }));
  sets.push(set('m_rms_mid4', { momentum: [0.5, 0.9, 0.99, 0.999], rms: [0.5, 0.9, 0.99, 0.999], mTimesRsqrtV: true }));
  sets.push(set('adafact', { adafactor: ALL6 }));
  sets.push(set('adafact_m_mul', { momentum: [0.5, 0.9, 0.99], adafactor: [0.5, 0.9, 0.99], mTimesFactors: true }));
  sets.push(set('union', { momentum: ALL6, rms: ALL6, adafactor: ALL6, mTimesRsqrtV: true, mTimesFactors: true }));
  const byName = new Map(sets.map((s) => [s.name, s]));
  // The paper's name for m_rms_0.999.
  byName.set('adams_0.999', { ...byName.get('m_rms_0.999')!, name: 'adams_0.999' });
  return byName;
}

const FEATURE_SETS = build();

/** Every feature-set name, in the paper's order. */
export const FEATURE_SET_NAMES: readonly string[] = [...FEATURE_SETS.keys()];

export function featureSet(name: string): FeatureSet {
  const found = FEATURE_SETS.get(name);
  if (!found) throw new Error(`unknown feature set "${name}"; valid: ${FEATURE_SET_NAMES.join(', ')}`);
  return found;
}
