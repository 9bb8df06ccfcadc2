#!/usr/bin/env node
// Issue 17 item 5: Haiku's ResNet-18 V2 (task resnet18-v2 at imageSize=32, classes=10) trained on
// CIFAR-10 for N steps with small_fc_lopt (the shipped pretrained θ) and with Adam, from the same
// initialisation and batch order. Prints the loss every --print steps and, per optimizer, the mean
// training loss, the final loss averaged over the last 10% of steps, the test loss at the end (BatchNorm
// in evaluation mode) and the median ms/step; writes everything (curves included) as JSON.
// Usage: node scripts/resnet18-cifar.mjs [--steps 300] [--batch 128] [--lr 1e-3] [--seed 0]
//          [--optimizers small_fc_lopt,adam] [--threads 1] [--backend native] [--out resnet18-cifar.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { chooseOptimizer } from '../dist/src/cli/optimizer-choice.js';
import { getBackend } from '../dist/src/engine/select.js';
import { setNativeBlasThreads } from '../dist/src/engine/native.js';
import { getTask } from '../dist/src/tasks/registry.js';
import { evaluateSplit, train } from '../dist/src/training/train.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' }, batch: { type: 'string', default: '128' }, lr: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '0' }, optimizers: { type: 'string', default: 'small_fc_lopt,adam' },
    threads: { type: 'string', default: '1' }, backend: { type: 'string', default: 'native' },
    print: { type: 'string', default: '10' }, out: { type: 'string', default: 'resnet18-cifar.json' },
  },
});
const steps = Number(values.steps);
const batchSize = Number(values.batch);
const seed = Number(values.seed);
const backend = getBackend(values.backend);
if (backend.name === 'native') setNativeBlasThreads(Number(values.threads));
const report = { task: 'resnet18-v2', taskOptions: { imageSize: 32, classes: 10, batchSize }, steps, seed, backend: backend.info(), runs: [] };

for (const name of values.optimizers.split(',')) {
  const task = getTask('resnet18-v2', { imageSize: 32, classes: 10, batchSize, backend });
  const hparams = name === 'adam' ? { learningRate: Number(values.lr) } : {};
  const { optimizer, theta } = chooseOptimizer({ name, hparams, seed, backend });
  const started = Date.now();
  const result = train({
    task, optimizer, steps, seed,
    onStep: (done, loss) => {
      if (done % Number(values.print) === 0 || done === 1) {
        console.log(`${name} step ${done}/${steps} loss ${loss.toFixed(4)} (${((Date.now() - started) / done).toFixed(0)} ms/step so far)`);
      }
    },
  });
  const tail = result.losses.slice(Math.floor(steps * 0.9));
  const run = {
    optimizer: name, hparams, theta: theta?.source, initialLoss: result.initialLoss, meanLoss: result.meanLoss,
    finalLoss10pct: tail.reduce((s, v) => s + v, 0) / tail.length, msPerStep: result.msPerStep, diverged: result.diverged,
    testLoss: evaluateSplit(task, result.params, task.datasets.test), losses: Array.from(result.losses),
  };
  report.runs.push(run);
  console.log(`${name}: mean loss ${run.meanLoss.toFixed(4)}, last-10% loss ${run.finalLoss10pct.toFixed(4)}, test loss ${run.testLoss.toFixed(4)}, ${run.msPerStep.toFixed(0)} ms/step`);
  writeFileSync(values.out, `${JSON.stringify(report, null, 1)}\n`);
}
