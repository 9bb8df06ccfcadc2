// Tasks: the interface, the registry and the paper's tasks.
export type { Task, TaskDatasets, LossAndGrad } from './task.js';
export { tasks, getTask, taskNames } from './registry.js';
export { taskKnobsSchema, TASK_KNOB_KEYS, type TaskKnobs, type TaskOptions } from './options.js';
export { clippedNormalizer, classificationClipTop } from './normalizers.js';
export { ImageMlpTask, splitImageData } from './image-mlp.js';
export { fmnistMlp } from './fmnist-mlp.js';
