// The layers: explicit forward/backward building blocks for tasks and users' own models.
export { Linear } from './linear.js';
export { ReLU } from './relu.js';
export { SoftmaxCrossEntropy } from './softmax-cross-entropy.js';
export { MLP } from './mlp.js';
export { varianceScalingWeight, zeroBias } from './init.js';
export { Conv2d, samePadding, type Conv2dOptions, type SamePadding } from './conv2d.js';
export { SpatialMean } from './spatial-mean.js';
export { SigmoidMSE } from './sigmoid-mse.js';
export { Embedding } from './embedding.js';
export { LSTM, type LSTMGradients, type LSTMBackwardOptions } from './lstm.js';
export { MaskedSoftmaxCrossEntropy } from './masked-softmax-cross-entropy.js';
