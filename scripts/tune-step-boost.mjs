#!/usr/bin/env node
// Chooses small_fc_lopt's built-in step boost (options stepBoost S and stepBoostSteps N: the step of
// update t < N is multiplied by S) for a meta-trained θ, on whole inner runs. PES over truncations of
// 20 steps has a short-horizon bias (Wu et al. 2018, "Understanding short-horizon bias in stochastic
// meta-optimization"): it learns early steps smaller than a whole run wants. Each (S, N) of the grid is
// scored by the mean 2,000-step training loss on the meta-training evaluation keys of `--key-seed`,
// runs 0 … N−1 (never the final-evaluation seeds), as `lopt meta-train` evaluates θ.
// Prints one line per setting (the unboosted θ first) and, last, one JSON line {weights, keySeed,
// seeds, best, results}.
// Usage: node scripts/tune-step-boost.mjs --weights FILE [--key-seed 12] [--seeds 8]
//        [--boosts 1.5,2,2.5,3] [--boost-steps 100,300,600,1000]
import { parseArgs } from 'node:util';
import { learned, meta } from '../dist/src/index.js';
import { evaluationOptions } from './evaluation-options.mjs';

const usage = 'usage: node scripts/tune-step-boost.mjs --weights FILE [--key-seed S] [--seeds N] [--boosts S1,S2,...] [--boost-steps N1,N2,...]';
const { values } = parseArgs({
  options: {
    weights: { type: 'string' }, 'key-seed': { type: 'string', default: '12' }, seeds: { type: 'string', default: '8' },
    boosts: { type: 'string', default: '1.5,2,2.5,3' }, 'boost-steps': { type: 'string', default: '100,300,600,1000' },
  },
});
const list = (text) => text.split(',').map(Number);
const [keySeed, seeds] = [Number(values['key-seed']), Number(values.seeds)];
const [boosts, boostSteps] = [list(values.boosts), list(values['boost-steps'])];
if (!values.weights || !Number.isInteger(keySeed) || !Number.isInteger(seeds) || seeds < 1
  || !boosts.every((s) => Number.isFinite(s) && s > 0) || !boostSteps.every((n) => Number.isInteger(n) && n >= 0)) {
  console.error(usage);
  process.exit(2);
}

const loaded = learned.load(values.weights);
const innerSteps = loaded.provenance.estimator?.innerSteps ?? 2000;

/** Mean loss (and each run's) with the boost (stepBoost, stepBoostSteps). */
function score(stepBoost, stepBoostSteps) {
  const options = evaluationOptions(loaded, keySeed, seeds, innerSteps, { stepBoost, stepBoostSteps });
  const rows = meta.evaluateTheta(options, loaded.theta, { outerStep: 0, thetaVersion: 0 });
  const losses = rows.map((r) => r.evalLoss);
  const loss = losses.reduce((a, b) => a + b, 0) / losses.length;
  console.log(`stepBoost ${stepBoost} for ${stepBoostSteps} updates: mean loss ${loss.toFixed(4)} over ${seeds} runs`);
  return { stepBoost, stepBoostSteps, loss, losses };
}

const results = [score(1, 0)];
for (const s of boosts) for (const n of boostSteps) results.push(score(s, n));
const best = results.reduce((a, b) => (b.loss < a.loss ? b : a));
console.log(JSON.stringify({ weights: values.weights, keySeed, seeds, best: { stepBoost: best.stepBoost, stepBoostSteps: best.stepBoostSteps, loss: best.loss }, results }));
