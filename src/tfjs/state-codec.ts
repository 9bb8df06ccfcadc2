// The state codec of lopt/tfjs's getWeights/setWeights: the shared one of lopt's state files
// (src/optimizers/state-leaves.ts), under the names lopt/tfjs exports.
export {
  stateToLeaves as encodeState, restoreLeaves as restoreState, type EncodedLeaf, type LeafDtype,
} from '../optimizers/state-leaves.js';
