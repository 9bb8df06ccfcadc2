// The layers: explicit forward/backward building blocks for tasks and users' own models.
export { Linear } from './linear.js';
export { ReLU } from './relu.js';
export { SoftmaxCrossEntropy } from './softmax-cross-entropy.js';
export { MLP } from './mlp.js';
export { varianceScalingWeight, zeroBias } from './init.js';
