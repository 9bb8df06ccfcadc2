#!/usr/bin/env node
// The imitation initialisation of the recipe ablation (README "The recipe ablation", issue 14): fit
// small_fc_lopt's MLP to NAdamW's steps (LO's list #8) on recorded fmnist-mlp runs, starting from a
// given θ, then report the imitation error and the mean training loss on the meta-training evaluation
// keys before and after. Round 1 records runs led by NAdamW; later rounds add runs led by the fitted
// student (DAgger), refitting on all samples. Writes OUT/theta.safetensors and OUT/report.json.
// Usage: node scripts/imitation-init.mjs --init WEIGHTS --out DIR [--seeds 2000,2001] [--rounds 2]
//        [--every 4] [--per-tensor 32] [--iterations 300] [--lr 1e-3] [--key-seed 12] [--eval-seeds 4]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getBackend, getOptimizer, learned, meta, tasks } from '../dist/src/index.js';
import { imitationRounds, recordImitation } from '../dist/src/learned/imitation.js';
import { nadamwList } from '../dist/src/study/index.js';
import { writeFileAtomic } from '../dist/src/util/atomic-write.js';

const { values } = parseArgs({
  options: {
    init: { type: 'string' }, out: { type: 'string' }, seeds: { type: 'string', default: '2000,2001' },
    rounds: { type: 'string', default: '2' }, every: { type: 'string', default: '4' }, 'per-tensor': { type: 'string', default: '32' },
    iterations: { type: 'string', default: '300' }, lr: { type: 'string', default: '1e-3' }, 'key-seed': { type: 'string', default: '12' },
    'eval-seeds': { type: 'string', default: '4' }, steps: { type: 'string', default: '2000' },
  },
});
const seeds = (values.seeds ?? '').split(',').map(Number);
const [rounds, every, perTensor, iterations, lr, keySeed, evalSeeds, steps] =
  ['rounds', 'every', 'per-tensor', 'iterations', 'lr', 'key-seed', 'eval-seeds', 'steps'].map((k) => Number(values[k]));
if (!values.init || !values.out || !seeds.every(Number.isInteger) || ![rounds, every, perTensor, iterations, keySeed, evalSeeds, steps].every(Number.isInteger) || !(lr > 0)) {
  console.error('usage: node scripts/imitation-init.mjs --init WEIGHTS --out DIR [--seeds S1,S2] [--rounds R] [--every K] [--per-tensor N] [--iterations I] [--lr ETA] [--key-seed S] [--eval-seeds N] [--steps T]');
  process.exit(2);
}
const task = tasks.get('fmnist-mlp');
const backend = getBackend();
const { optimizer: lopt, theta: start } = learned.load(values.init);
const teacher = () => getOptimizer('nadamw', { ...nadamwList()[8] });
const evaluation = { problem: { lopt: 'small_fc_lopt', task: 'fmnist-mlp' }, seed: keySeed, evalSeeds, innerSteps: steps };
const evalLoss = (theta) => {
  const rows = meta.evaluateOptimizer(evaluation, lopt.optFn(theta), { outerStep: 0, thetaVersion: 0 });
  return rows.reduce((sum, r) => sum + r.evalLoss, 0) / rows.length;
};

const { theta, rounds: log } = imitationRounds({
  theta: start, rounds, fit: { iterations, learningRate: lr },
  record: (current, follow) => [recordImitation({
    task, backend, teacher, steps, seeds, every, perTensor, follow,
    student: (b) => learned.get('small_fc_lopt', lopt.options, { backend: b }).optFn(current),
  })],
  onRound: (row) => console.log(`round ${row.round} (${row.follow} leads): ${row.samples} samples, imitation error ${row.lossBefore.toFixed(4)} → ${row.lossAfter.toFixed(4)} (${row.seconds.toFixed(0)} s)`),
});
const before = evalLoss(start);
const after = evalLoss(theta);
const nadamw = meta.evaluateOptimizer(evaluation, teacher(), { outerStep: 0, thetaVersion: 0 }).reduce((s, r) => s + r.evalLoss, 0) / evalSeeds;
console.log(`mean training loss on the evaluation keys: start θ ${before.toFixed(4)}, fitted θ ${after.toFixed(4)}, NAdamW #8 ${nadamw.toFixed(4)}`);
mkdirSync(values.out, { recursive: true });
learned.save(join(values.out, 'theta.safetensors'), lopt, theta, { imitation: { teacher: 'nadamw #8', task: 'fmnist-mlp', from: values.init, seeds, rounds, every, perTensor, iterations, lr } });
writeFileAtomic(join(values.out, 'report.json'), JSON.stringify({ rounds: log, evalKeys: { keySeed, evalSeeds, steps }, evalLoss: { start: before, fitted: after, nadamw } }, null, 1) + '\n');
