// Tasks: the interface, the registry and the paper's tasks.
export type { Task, TaskDatasets, LossAndGrad } from './task.js';
export { tasks, getTask, taskNames, taskFamilies, getTaskFamily, taskFamilyNames } from './registry.js';
export { quadraticTask, logQuadraticTask, sumQuadraticTask, quadraticFamily, type TaskFamily } from './quadratics.js';
export type { NoiseBatch } from './no-data.js';
export { taskKnobsSchema, TASK_KNOB_KEYS, type TaskKnobs, type TaskOptions } from './options.js';
export { clippedNormalizer, classificationClipTop } from './normalizers.js';
export { ImageMlpTask, splitImageData } from './image-mlp.js';
export { fmnistMlp } from './fmnist-mlp.js';
export { mixtureFamily, mixtureTaskNames, variantName, MIXTURES, PAPER_MIX, type MixtureVariant } from './mixture.js';
