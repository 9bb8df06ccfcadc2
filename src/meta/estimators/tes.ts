// Truncated evolution strategies (LO outer_trainers/truncated_es.py): one persistent copy; each
// truncation forks the negative copy from it and drops the fork afterwards. g = (old + new)·ε, the
// masked mean of Δ times ε (docs/specification.md §20).
import { accumulateEs, type Estimator } from '../estimator.js';

export const tes: Estimator = {
  name: 'tes',
  description: 'truncated ES',
  initSlotState: () => null,
  unrollSteps: (o) => o.truncLength,
  randomInitialStep: true,
  stopAtDone: false,
  beforeUnroll: () => {},
  prepareCopies(slot) {
    // The negative copy starts from the persistent (positive) state.
    if (slot.neg === null) slot.neg = structuredClone(slot.pos);
  },
  afterUnroll(slot) {
    slot.neg = null;
  },
  accumulate: (red, eps, _state, grad) => accumulateEs(red, eps, grad),
};
