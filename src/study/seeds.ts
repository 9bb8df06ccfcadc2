// The study's seed ranges: disjoint, so nothing is ever selected on the seeds it is reported on.
//
//   search            2000–2999  baseline hyperparameter search (`--search-seeds S`: 2000 … 2000+S−1)
//   final evaluation  1000–1999  the evaluation table and curves (`--seeds S`, default 5: 1000 … 1004)
//   meta-training     keys derived from the meta-training seed (src/meta/learner.ts evaluates θ on
//                     foldIn(foldIn(keyFromSeed(seed), 0xe7a1), i)), a separate key namespace: a run's key
//                     here is keyFromSeed(s) = [0, s], which those hashed keys do not reproduce.
//   NAdamW draws      fresh configurations beyond LO's list come from foldIn(keyFromSeed(NADAMW_DRAW_SEED), i),
//                     a fixed stream, so a larger budget extends, never reshuffles, the set searched.
//   untrained θ       a learned optimizer without meta-trained weights draws θ from UNTRAINED_THETA_SEED.
// Search selects on search seeds only; the evaluation runs at the selected settings on the evaluation
// seeds, which the search never sees.

export const SEARCH_SEED_BASE = 2000;
export const EVAL_SEED_BASE = 1000;
export const SEEDS_PER_RANGE = 1000;
export const DEFAULT_EVAL_SEEDS = 5;
export const DEFAULT_SEARCH_SEEDS = 1;
export const NADAMW_DRAW_SEED = 0x5eed;
export const UNTRAINED_THETA_SEED = 0;

function range(base: number, count: number, what: string): number[] {
  if (!Number.isInteger(count) || count < 1 || count > SEEDS_PER_RANGE) {
    throw new Error(`${what} must be an integer from 1 to ${SEEDS_PER_RANGE}, got ${count}`);
  }
  return Array.from({ length: count }, (_, i) => base + i);
}

/** Seeds of the baseline search: 2000, 2001, … */
export function searchSeeds(count: number = DEFAULT_SEARCH_SEEDS): number[] {
  return range(SEARCH_SEED_BASE, count, 'the number of search seeds');
}

/** Seeds of the final evaluation: 1000, 1001, … */
export function evalSeeds(count: number = DEFAULT_EVAL_SEEDS): number[] {
  return range(EVAL_SEED_BASE, count, 'the number of evaluation seeds');
}

export function isSearchSeed(seed: number): boolean {
  return seed >= SEARCH_SEED_BASE && seed < SEARCH_SEED_BASE + SEEDS_PER_RANGE;
}

export function isEvalSeed(seed: number): boolean {
  return seed >= EVAL_SEED_BASE && seed < EVAL_SEED_BASE + SEEDS_PER_RANGE;
}
