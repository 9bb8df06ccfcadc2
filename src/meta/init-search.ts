// Where a meta-training run's θ starts: the learned optimizer's initialisation from the run's seed,
// or (init search) the best of the initialisations of seeds S … S+N−1 judged by a short inner run.
// An untrained per-parameter MLP optimizer's behaviour varies wildly with its draw (some descend,
// some stall, some diverge), and PES from a stalled draw can stay stalled for thousands of steps.
import { foldIn, keyFromSeed, type Key } from '../engine/random.js';
import type { Params } from '../engine/tensor.js';
import { buildLopt, buildTaskSource, type MetaProblemSpec } from './problem.js';
import { train } from '../training/train.js';

/** The key of the initial θ of a run with this seed (what `--seed S` starts from). */
export function initialThetaKey(seed: number): Key {
  return foldIn(keyFromSeed(seed), 0x7e7a);
}

/** Keys of the short judging runs: their own branch, apart from training slots and evaluation. */
function judgeKey(seed: number): Key {
  return foldIn(keyFromSeed(seed), 0x1d17);
}

export interface InitSearchResult {
  theta: Params;
  /** The seed whose initial θ won (a run with `--seed` this value starts from the same θ). */
  seed: number;
  /** Mean training loss of each candidate's judging run, in seed order (Infinity: diverged). */
  losses: number[];
}

/**
 * Tries the initial θ of seeds `seed` … `seed + count − 1` on the problem's task (one inner run of
 * `steps` steps each, same task draw and data for all) and returns the one with the lowest mean loss.
 */
export function searchInitialTheta(problem: MetaProblemSpec, seed: number, count: number, steps: number): InitSearchResult {
  if (!Number.isInteger(count) || count < 1) throw new Error(`init search needs at least one candidate, got ${count}`);
  const lopt = buildLopt(problem);
  const source = buildTaskSource(problem);
  const key = judgeKey(seed);
  const losses: number[] = [];
  let best = -1;
  for (let k = 0; k < count; k++) {
    const theta = lopt.init(initialThetaKey(seed + k));
    const result = train({ task: source.taskFor(foldIn(key, 1)), optimizer: lopt.optFn(theta), steps, key: foldIn(key, 2) });
    losses.push(Number.isFinite(result.meanLoss) ? result.meanLoss : Infinity);
    if (best < 0 || losses[k] < losses[best]) best = k;
  }
  return { theta: lopt.init(initialThetaKey(seed + best)), seed: seed + best, losses };
}
