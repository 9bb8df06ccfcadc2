// Full evolution strategies (LO outer_trainers/full_es.py): every estimate unrolls one whole fresh run
// (the longest the schedule allows) with θ ± ε and keeps nothing between estimates. g = (old + new)·ε
// (docs/specification.md §20).
import { accumulateEs, type Estimator } from '../estimator.js';
import { maxLength } from '../truncation.js';

export const fes: Estimator = {
  name: 'fes',
  description: 'full ES',
  initSlotState: () => null,
  unrollSteps: (o) => (o.schedule ? maxLength(o.schedule) : o.innerSteps),
  randomInitialStep: false,
  stopAtDone: true,
  beforeUnroll(slot) {
    slot.pos = null;
    slot.neg = null;
  },
  prepareCopies: () => {},
  afterUnroll(slot) {
    slot.pos = null;
    slot.neg = null;
  },
  accumulate: (red, eps, _state, grad) => accumulateEs(red, eps, grad),
};
