// The study's phases, in order: a module of its own so that the CLI can list them in `lopt study
// --help` without loading the study.
export const STUDY_PHASES = ['search', 'eval', 'overhead', 'memory', 'variants', 'report'] as const;
export type StudyPhase = (typeof STUDY_PHASES)[number];
