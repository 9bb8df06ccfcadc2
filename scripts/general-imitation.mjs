#!/usr/bin/env node
// The first stage of the general-purpose small_fc_lopt weights (README "General-purpose weights",
// issue 19): imitation of a tuned hand-designed optimizer on every variant of the paper-mix task
// family, before PES meta-training on the same family. For each variant it picks the teacher among
// Adam at 1e-3 and 3e-3 and LO's NAdamW list entries #0, #2, #3 and #8 by the mean training loss of
// one run (--select-seed), each with a linear warmup over its first --warmup steps if asked (every
// warmup step is then recorded, not one in --every; default 0: none, the shipped recipe, which builds
// the warmup into the optimizer instead: the student did not learn it, see README), records that teacher's
// per-element steps with small_fc_lopt's own inputs (src/learned/imitation.ts), fits θ to all variants'
// samples at once, each recording weighted by its own step scale (so a task whose teacher takes small
// steps counts as much as one with large steps), and repeats with runs led by the fitted student (DAgger). Writes OUT/theta.safetensors
// (provenance: paper-mix and its variants) and OUT/report.json.
// Usage: node scripts/general-imitation.mjs --init WEIGHTS --out DIR [--steps 600] [--select-seed 2000]
//        [--seeds 2001,2002] [--rounds 2] [--every 8] [--per-tensor 16] [--iterations 500] [--lr 1e-3]
//        [--warmup 0]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { getBackend, getOptimizer, learned, tasks, train, PAPER_MIX, variantName } from '../dist/src/index.js';
import { imitationRounds, recordImitation } from '../dist/src/learned/imitation.js';
import { composeOptimizer, resolveComposition } from '../dist/src/optimizers/index.js';
import { nadamwList } from '../dist/src/study/index.js';
import { writeFileAtomic } from '../dist/src/util/atomic-write.js';

/** The teacher candidates: Adam at two learning rates (best on the autoencoder and the ImageNet MLP) and NAdamW entries. */
const CANDIDATES = [
  ...[1e-3, 3e-3].map((lr) => ({ name: `adam ${lr}`, optimizer: 'adam', hparams: { learningRate: lr } })),
  ...[0, 2, 3, 8].map((i) => ({ name: `nadamw #${i}`, optimizer: 'nadamw', hparams: { ...nadamwList()[i] } })),
];
const { values } = parseArgs({
  options: {
    init: { type: 'string' }, out: { type: 'string' }, steps: { type: 'string', default: '600' },
    'select-seed': { type: 'string', default: '2000' }, seeds: { type: 'string', default: '2001,2002' },
    rounds: { type: 'string', default: '2' }, every: { type: 'string', default: '8' }, 'per-tensor': { type: 'string', default: '16' },
    iterations: { type: 'string', default: '500' }, lr: { type: 'string', default: '1e-3' },
    warmup: { type: 'string', default: '0' },
  },
});
const seeds = values.seeds.split(',').map(Number);
const [steps, selectSeed, rounds, every, perTensor, iterations, lr, warmup] =
  ['steps', 'select-seed', 'rounds', 'every', 'per-tensor', 'iterations', 'lr', 'warmup'].map((k) => Number(values[k]));
if (!values.init || !values.out || !seeds.every(Number.isInteger) || ![steps, selectSeed, rounds, every, perTensor, iterations, warmup].every(Number.isInteger) || !(lr > 0) || warmup < 0) {
  console.error('usage: node scripts/general-imitation.mjs --init WEIGHTS --out DIR [--steps N] [--select-seed S] [--seeds S1,S2] [--rounds R] [--every K] [--per-tensor N] [--iterations I] [--lr ETA] [--warmup STEPS]');
  process.exit(2);
}
const composition = resolveComposition({ warmupSteps: warmup });
const TEACHERS = CANDIDATES.map((c) => ({
  name: warmup > 0 ? `${c.name}, warmup ${warmup}` : c.name,
  make: (backend) => composeOptimizer(getOptimizer(c.optimizer, c.hparams, { backend }), composition, { learningRate: c.hparams.learningRate, backend }),
}));
const backend = getBackend();
backend.setThreads?.(1);
const { optimizer: lopt, theta: start } = learned.load(values.init, { backend });

// Each variant's teacher: the candidate with the lowest mean training loss on the selection seed.
const variants = PAPER_MIX.map((variant) => {
  const task = tasks.get(variant.task, { backend, ...variant.knobs });
  const scored = TEACHERS.map((teacher) => {
    const { meanLoss } = train({ task, optimizer: teacher.make(backend), steps, seed: selectSeed });
    return { teacher, meanLoss: Number.isFinite(meanLoss) ? meanLoss : Infinity };
  }).sort((a, b) => a.meanLoss - b.meanLoss);
  console.log(`${variantName(variant)}: teacher ${scored[0].teacher.name} (${scored.map((s) => `${s.teacher.name} ${s.meanLoss.toFixed(4)}`).join(', ')})`);
  return { variant, task, teacher: scored[0].teacher, scores: scored.map((s) => ({ teacher: s.teacher.name, meanLoss: s.meanLoss })) };
});

const { theta, rounds: log } = imitationRounds({
  theta: start, rounds, balance: true, fit: { iterations, learningRate: lr },
  record: (current, follow) => variants.map(({ task, teacher }) => recordImitation({
    task, backend, steps, seeds, every, perTensor, follow, denseSteps: warmup,
    teacher: () => teacher.make(backend),
    student: (b) => learned.get('small_fc_lopt', lopt.options, { backend: b }).optFn(current),
  })),
  onRound: (row) => console.log(`round ${row.round} (${row.follow} leads): ${row.samples} samples, imitation error ${row.lossBefore.toFixed(4)} → ${row.lossAfter.toFixed(4)} (${row.seconds.toFixed(0)} s)`),
});

mkdirSync(values.out, { recursive: true });
const teachers = Object.fromEntries(variants.map((v) => [variantName(v.variant), v.teacher.name]));
learned.save(join(values.out, 'theta.safetensors'), lopt, theta, {
  task: 'paper-mix', tasks: PAPER_MIX.map(variantName),
  imitation: { teachers, from: values.init, steps, selectSeed, seeds, rounds, every, perTensor, iterations, lr, warmup },
});
writeFileAtomic(join(values.out, 'report.json'), `${JSON.stringify({ rounds: log, teachers: variants.map((v) => ({ variant: variantName(v.variant), scores: v.scores })) }, null, 1)}\n`);
