// The optimizers module: the one interface, the hand-designed optimizers, schedules, wrappers, registry.
export type { Optimizer, OptimizerInitOptions, UpdateContext } from './optimizer.js';
export type { HandDesignedOptimizer, OptimizerFactoryOptions } from './factory.js';
export type { HparamSpec, HparamValue } from './hparams.js';
export { sgd, SGD_HPARAMS } from './sgd.js';
export type { SgdHparams, SgdState } from './sgd.js';
export { sgdm, SGDM_HPARAMS } from './sgdm.js';
export type { SgdmHparams, SgdmState } from './sgdm.js';
export { adam, ADAM_HPARAMS } from './adam.js';
export type { AdamHparams, AdamState } from './adam.js';
export { nadamw, NADAMW_HPARAMS } from './nadamw.js';
export type { NadamwHparams, NadamwState } from './nadamw.js';
export { adafactor, adafactorLayout, ADAFACTOR_HPARAMS } from './adafactor.js';
export type { AdafactorHparams, AdafactorLayout, AdafactorState } from './adafactor.js';
export { cosineSchedule } from './schedules.js';
export type { CosineScheduleHparams } from './schedules.js';
export { withGradientClip } from './clip.js';
export { getOptimizer, optimizers, OPTIMIZER_NAMES } from './registry.js';
export type { OptimizerHparams, OptimizerName } from './registry.js';
