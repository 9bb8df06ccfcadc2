// Persistent evolution strategies (Vicol et al. 2021; LO outer_trainers/truncated_pes.py): both the
// positive and the negative copy persist across truncations, and each slot keeps an accumulator A of
// the perturbations since its run started: g = old·(A + ε) + new·ε, then A ← ε if the run finished in
// this truncation, else A + ε (docs/specification.md §20).
import type { Estimator } from '../estimator.js';

export const pes: Estimator = {
  name: 'pes',
  description: 'persistent evolution strategies',
  initSlotState: (size) => new Float32Array(size),
  unrollSteps: (o) => o.truncLength,
  randomInitialStep: true,
  stopAtDone: false,
  beforeUnroll: () => {},
  prepareCopies: () => {},
  afterUnroll: () => {},
  accumulate(red, eps, acc, grad) {
    if (!acc) throw new Error('PES needs an accumulator per slot');
    for (let j = 0; j < eps.length; j++) {
      const a = acc[j] + eps[j];
      grad[j] += red.old * a + red.new * eps[j];
      acc[j] = red.finished ? eps[j] : a;
    }
  },
};
