// The study's public surface, the `lopt/study` entry: run it, read its database. Its optional
// packages (better-sqlite3 for the database, vega and vega-lite for the report) are loaded when a
// database is opened or a report written; a missing one is an OptionalPackageMissing naming it.
/**
 * The study, `import … from 'lopt/study'`: baseline search, evaluation, overhead and memory
 * measurements, the SQLite results database (better-sqlite3, optional) and the report (vega, optional).
 *
 * @module lopt/study
 */
export { runStudy, resolveStudyConfig, studyConfigSchema, SMOKE_PRESET, STUDY_PHASES, DEFAULT_STUDY_TASKS, DEFAULT_STUDY_OPTIMIZERS, type StudyConfig, type StudyConfigInput, type StudyEvents, type StudyPhase, type StudyResult } from './study.js';
export * from './db.js';
export { searchSeeds, evalSeeds, SEARCH_SEED_BASE, EVAL_SEED_BASE, NADAMW_DRAW_SEED, UNTRAINED_THETA_SEED } from './seeds.js';
export { LR_GRID, NADAMW_SPACE, lrGrid, nadamwList, nadamwConfigs, sampleNadamw, searchConfigs, type NadamwConfig } from './search-space.js';
export { chooseBest, planSearch, type ConfigResult, type Selection } from './search.js';
export { measureOverhead, timingPoints, BATCH_SIZES, WIDTH_SWEEPS, DEFAULT_TIMING, type TimingSettings, type OverheadMeasurement } from './overhead.js';
export { float32Bytes, measureInChild, type MemoryChildReport } from './memory.js';
export { parseVariants, type VariantSpec } from './variants.js';
export { budgetFor, DEFAULT_NADAMW_BUDGET } from './budget.js';
export { optimizerSpec, buildOptimizer, type OptimizerSpec } from './optimizer-spec.js';
export { measureTable1Row, runTable1, parseTable1Model, PAPER_TABLE1, TABLE1_TIMING, type Table1Model, type Table1Result, type Table1Setup, type Table1RunOptions } from './table1.js';
// Types that the exports above name, exported so that the API reference (`npm run docs`) documents them.
export type { PhaseSummary } from './study.js';
export type { ReportResult } from './report/index.js';
export type { SearchGroup, SearchPlanOptions } from './search.js';
export type { RunJob } from './run-job.js';
export type { SearchSpaceOptions } from './search-space.js';
export type { TimingPoint, SweepOptions, WidthSweep } from './overhead.js';
export type { MemoryChildRequest } from './memory.js';
export { OptionalPackageMissing, OPTIONAL_PACKAGES, type OptionalPackage } from '../util/optional.js';
