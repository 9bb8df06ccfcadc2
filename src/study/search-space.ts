// The baseline search spaces (docs/specification.md §8; paper §3 and App. F.2): the learning-rate
// grid of SGD, SGDM and Adam, and NAdamW's 10-hyperparameter space (LO's ordered list of 1,000, then
// fresh draws).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { foldIn, keyFromSeed, threefry2x32, type Key } from '../engine/random.js';
import { NADAMW_DRAW_SEED } from './seeds.js';

/** Every half decade from 1e-7 to 1: 15 values (10^e to 15 significant digits, so 1e-4 is 0.0001). */
export const LR_GRID: readonly number[] = Object.freeze(Array.from({ length: 15 }, (_, k) => Number((10 ** (-7 + k / 2)).toPrecision(15))));

/** Optimizers tuned by the learning-rate grid (their other hyperparameters stay at the paper's values). */
export const GRID_OPTIMIZERS = ['sgd', 'sgdm', 'adam'] as const;
/** Optimizers tuned by random search over App. F.2. */
export const RANDOM_SEARCH_OPTIMIZERS = ['nadamw'] as const;

export function isSearchable(optimizer: string): boolean {
  return (GRID_OPTIMIZERS as readonly string[]).includes(optimizer) || optimizer === 'nadamw';
}

/**
 * The learning rates a budget of `budget` configurations searches: the whole grid when it allows,
 * else `budget` values spread evenly over it (both ends included; one value: the middle, 10^-3.5).
 */
export function lrGrid(budget: number = LR_GRID.length, grid: readonly number[] = LR_GRID): number[] {
  if (!Number.isInteger(budget) || budget < 1) throw new Error(`the search budget must be a positive integer, got ${budget}`);
  const n = grid.length;
  if (budget >= n) return [...grid];
  if (budget === 1) return [grid[(n - 1) >> 1]];
  const picked: number[] = [];
  for (let i = 0; i < budget; i++) picked.push(grid[Math.round((i * (n - 1)) / (budget - 1))]);
  return picked;
}

/** NAdamW hyperparameters under lopt's names (src/optimizers/nadamw.ts). */
export interface NadamwConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  useNesterov: boolean;
  l2WeightDecay: number;
  adamwWeightDecay: number;
  warmupFraction: number;
  constantFraction: number;
  minLearningRateMult: number;
}

/** App. F.2, as docs/specification.md §8 reads it. */
export const NADAMW_SPACE = Object.freeze({
  learningRate: [1e-5, 1],
  oneMinusBeta1: [1e-3, 1],
  oneMinusBeta2: [1e-5, 1],
  epsilon: [1e-8, 1e4],
  weightDecay: [1e-5, 1e-1],
  minLearningRateMult: [1e-5, 1],
  warmupFraction: [1e-5, 1e-1],
  constantFraction: [0, 1],
  pNesterov: 0.5,
  pMinLearningRateMult: 0.5,
  pWarmup: 0.5,
} as const);

const listEntrySchema = z.object({
  learning_rate: z.number().positive(),
  beta1: z.number().min(0).lt(1),
  beta2: z.number().min(0).lt(1),
  epsilon: z.number().positive(),
  use_nesterov: z.boolean(),
  adamw_weight_decay: z.number().min(0),
  l2_weight_decay: z.number().min(0),
  warmup_fraction: z.number().min(0),
  min_learning_rate_mult: z.number().min(0),
  constant_fraction: z.number().min(0),
});

/** Where the vendored copy of LO's `optimizers/data/opt_list.json` lives (package root `data/`). */
export const NADAMW_LIST_FILE = new URL('../../../data/nadamw_opt_list.json', import.meta.url);

let listCache: NadamwConfig[] | undefined;

/** LO's fixed, ordered list of 1,000 NAdamW configurations (Apache-2.0), under lopt's names. */
export function nadamwList(): readonly NadamwConfig[] {
  if (!listCache) {
    const parsed = z.array(listEntrySchema).safeParse(JSON.parse(readFileSync(NADAMW_LIST_FILE, 'utf8')));
    if (!parsed.success) throw new Error(`${NADAMW_LIST_FILE.pathname} is not LO's NAdamW list: ${parsed.error.issues[0].message}`);
    listCache = parsed.data.map((e) => ({
      learningRate: e.learning_rate,
      beta1: e.beta1,
      beta2: e.beta2,
      epsilon: e.epsilon,
      useNesterov: e.use_nesterov,
      l2WeightDecay: e.l2_weight_decay,
      adamwWeightDecay: e.adamw_weight_decay,
      warmupFraction: e.warmup_fraction,
      constantFraction: e.constant_fraction,
      minLearningRateMult: e.min_learning_rate_mult,
    }));
  }
  return listCache;
}

/** Uniform float64 draws in [0, 1) from a key: element i uses both words of threefry(key, i, 0). */
function uniforms(key: Key, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const [w0, w1] = threefry2x32(key, i, 0);
    out.push((w0 * 2097152 + (w1 >>> 11)) / 9007199254740992);
  }
  return out;
}

function logUniform(u: number, [lo, hi]: readonly [number, number] | readonly number[]): number {
  return Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo)));
}

/** One configuration drawn from App. F.2 with `key`. */
export function sampleNadamw(key: Key): NadamwConfig {
  const u = uniforms(key, 13);
  const s = NADAMW_SPACE;
  let l2 = logUniform(u[5], s.weightDecay);
  let adamw = logUniform(u[6], s.weightDecay);
  // With probability 1/3 each: keep both, zero l2, zero AdamW decay.
  const which = Math.floor(u[7] * 3);
  if (which === 1) l2 = 0;
  else if (which === 2) adamw = 0;
  return {
    learningRate: logUniform(u[0], s.learningRate),
    beta1: 1 - logUniform(u[1], s.oneMinusBeta1),
    beta2: 1 - logUniform(u[2], s.oneMinusBeta2),
    epsilon: logUniform(u[3], s.epsilon),
    useNesterov: u[4] < s.pNesterov,
    l2WeightDecay: l2,
    adamwWeightDecay: adamw,
    minLearningRateMult: u[8] < s.pMinLearningRateMult ? logUniform(u[9], s.minLearningRateMult) : 0,
    warmupFraction: u[10] < s.pWarmup ? logUniform(u[11], s.warmupFraction) : 0,
    constantFraction: s.constantFraction[0] + u[12] * (s.constantFraction[1] - s.constantFraction[0]),
  };
}

/** The i-th fresh draw (0-based) of the study's fixed NAdamW stream. */
export function nadamwDraw(index: number, seed: number = NADAMW_DRAW_SEED): NadamwConfig {
  return sampleNadamw(foldIn(keyFromSeed(seed), index));
}

/** The first `count` NAdamW configurations of the search: LO's list in order, then fresh draws. */
export function nadamwConfigs(count: number): NadamwConfig[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`the search budget must be a positive integer, got ${count}`);
  const list = nadamwList();
  const out = list.slice(0, count).map((c) => ({ ...c }));
  for (let i = 0; out.length < count; i++) out.push(nadamwDraw(i));
  return out;
}

export interface SearchSpaceOptions {
  /** Learning rates to search instead of the 15-value grid (e.g. the smoke preset's subset). */
  lrGrid?: readonly number[];
}

/** The hyperparameters (as given, before defaults) a search with `budget` tries for `optimizer`. */
export function searchConfigs(optimizer: string, budget: number, options: SearchSpaceOptions = {}): Record<string, unknown>[] {
  if ((GRID_OPTIMIZERS as readonly string[]).includes(optimizer)) {
    return lrGrid(budget, options.lrGrid ?? LR_GRID).map((learningRate) => ({ learningRate }));
  }
  if (optimizer === 'nadamw') return nadamwConfigs(budget).map((c) => ({ ...c }));
  throw new Error(`${optimizer} has no search space: searched are ${[...GRID_OPTIMIZERS, 'nadamw'].join(', ')}`);
}
