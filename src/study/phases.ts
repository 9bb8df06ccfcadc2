// The study's phases, in order: a module of its own so that the CLI can list them in `lopt study
// --help` without loading the study.
// `table1` (the paper's Table 1 at its model sizes) runs only when named in --phases.
export const STUDY_PHASES = ['search', 'eval', 'overhead', 'memory', 'variants', 'table1', 'report'] as const;
export type StudyPhase = (typeof STUDY_PHASES)[number];
