import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learnableLrSgd } from '../../src/learned/learnable-sgd.js';
import { getTask } from '../../src/tasks/registry.js';
import { train } from '../../src/meta/train.js';
import { MetaLearner, type MetaTrainOptions } from '../../src/meta/learner.js';
import { reduceSlot, accumulateSlot, sanitize } from '../../src/meta/estimators.js';

const LR = 0.05;
const K = 5;
const T = 2 * K;

/** Mean loss over inner steps [from, to) of a T-step run with lr = exp(logLr), averaged over seeds. */
function windowLoss(logLr: number, from: number, to: number, seeds: number): number {
  const lopt = learnableLrSgd();
  const optimizer = lopt.optFn({ log_lr: { shape: [1], data: Float32Array.of(logLr) } });
  let sum = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const { losses } = train({ task: getTask('quadratic', { dim: 4 }), optimizer, steps: T, seed: 1000 + seed });
    for (let k = from; k < to; k++) sum += losses[k] / (to - from);
  }
  return sum / seeds;
}

function meanAndSe(values: number[]): { mean: number; se: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, se: Math.sqrt(variance / values.length) };
}

test('PES on a quadratic agrees with finite differences of the expected unrolled loss', async () => {
  const logLr = Math.log(LR);
  const learner = await MetaLearner.create({
    problem: { lopt: 'learnable_lr_sgd', task: 'quadratic', taskOptions: { dim: 4 } },
    estimator: 'pes', numTasks: 256, truncLength: K, innerSteps: T, initialOffset: 0,
    std: 0.01, metaLr: 0, outerSteps: 1, seed: 3,
    theta: { log_lr: { shape: [1], data: Float32Array.of(logLr) } },
  });
  // θ stays fixed: alternate truncations cover steps 0..K−1 and K..2K−2 (the last step is masked).
  const first: number[] = [];
  const second: number[] = [];
  for (let r = 0; r < 24; r++) {
    const est = await learner.estimate();
    (r % 2 === 0 ? first : second).push(est.grad[0]);
    assert.equal(est.nanCount, 0);
  }
  await learner.close();
  const h = 1e-2;
  const seeds = 400;
  const fd1 = (windowLoss(logLr + h, 0, K, seeds) - windowLoss(logLr - h, 0, K, seeds)) / (2 * h);
  const fd2 = (windowLoss(logLr + h, K, T - 1, seeds) - windowLoss(logLr - h, K, T - 1, seeds)) / (2 * h);
  // Analytic check of the finite differences: E loss_k = dim·(1 − 2 lr)^(2k).
  const expected = (lr: number, from: number, to: number) => {
    let s = 0;
    for (let k = from; k < to; k++) s += 4 * (1 - 2 * lr) ** (2 * k) / (to - from);
    return s;
  };
  const an2 = (expected(Math.exp(logLr + h), K, T - 1) - expected(Math.exp(logLr - h), K, T - 1)) / (2 * h);
  assert.ok(Math.abs(fd2 - an2) < 0.1 * Math.abs(an2), `finite differences ${fd2} vs analytic ${an2}`);
  for (const [name, values, fd] of [['first', first, fd1], ['second', second, fd2]] as const) {
    const { mean, se } = meanAndSe(values);
    assert.ok(fd < 0, `${name}: a larger lr lowers the loss (${fd})`);
    assert.ok(Math.abs(mean - fd) < 4 * se + 0.02 * Math.abs(fd), `${name} truncation: PES ${mean} ± ${se} vs finite differences ${fd}`);
    assert.ok(Math.abs(mean - fd) < 0.15 * Math.abs(fd), `${name} truncation: PES ${mean} vs finite differences ${fd}`);
  }
});

test('the PES accumulator rule and the reductions follow REFERENCE §5', () => {
  // Steps: Δ = 1, 2, 3, 4; the run finishes at step 2 (0-based), whose mask is 0.
  const r = {
    pos: Float64Array.of(2, 4, 6, 8), neg: Float64Array.of(1, 2, 3, 4),
    done: Uint8Array.of(0, 0, 1, 0), mask: Uint8Array.of(1, 1, 0, 1), innerSteps: 8,
  };
  const red = reduceSlot(r);
  assert.equal(red.finished, true);
  assert.equal(red.old, (1 + 2) / 3);
  assert.equal(red.new, 4 / 3);
  assert.equal(red.loss, (1.5 + 3 + 6) / 3);
  const eps = Float32Array.of(0.5, -1);
  const acc = Float32Array.of(2, 3);
  const grad = new Float64Array(2);
  accumulateSlot('pes', red, eps, acc, grad);
  assert.ok(Math.abs(grad[0] - (1 * 2.5 + (4 / 3) * 0.5)) < 1e-12 && Math.abs(grad[1] - (1 * 2 + (4 / 3) * -1)) < 1e-12, `${grad}`);
  assert.deepEqual([...acc], [0.5, -1]); // finished: acc ← ε
  const unfinished = { ...red, finished: false };
  accumulateSlot('pes', unfinished, eps, acc, new Float64Array(2));
  assert.deepEqual([...acc], [1, -2]); // acc ← acc + ε
  const tes = new Float64Array(2);
  accumulateSlot('tes', red, eps, null, tes);
  assert.ok(Math.abs(tes[0] - (7 / 3) * 0.5) < 1e-12 && Math.abs(tes[1] + 7 / 3) < 1e-12, `${tes}`);
});

test('NaN rules: a NaN averaged loss becomes 20, NaN gradient entries 0, counted; θ does not move', async () => {
  const grad = Float64Array.of(1, NaN, 3, NaN);
  assert.deepEqual(sanitize(NaN, grad), { loss: 20, nanCount: 3 });
  assert.deepEqual([...grad], [1, 0, 3, 0]);
  assert.deepEqual(sanitize(1.5, Float64Array.of(2)), { loss: 1.5, nanCount: 0 });
  // An lr of e^12 diverges to Inf, then NaN, within a few steps on every slot.
  const learner = await MetaLearner.create({
    problem: { lopt: 'learnable_lr_sgd', task: 'quadratic', taskOptions: { dim: 4 } },
    estimator: 'pes', numTasks: 4, truncLength: 40, innerSteps: 100, initialOffset: 0,
    std: 0.01, metaLr: 0.1, outerSteps: 2, seed: 0,
    theta: { log_lr: { shape: [1], data: Float32Array.of(12) } },
  });
  const row = await learner.step();
  assert.equal(row.metaLoss, 20);
  assert.ok(row.nanCount >= 2, `nanCount ${row.nanCount}`);
  assert.equal(row.gradNorm, 0);
  assert.equal(learner.theta().log_lr.data[0], 12);
  await learner.close();
});

const familyOptions = (seed: number, estimator: 'pes' | 'tes' | 'fes' = 'pes'): MetaTrainOptions => ({
  problem: { lopt: 'learnable_lr_sgd', family: 'quadratic-family', taskOptions: { dim: 10 } },
  estimator, numTasks: 8, truncLength: 10, innerSteps: 50, std: 0.01, metaLr: 0.05, outerSteps: 60, seed,
});

async function trajectory(options: MetaTrainOptions, steps: number): Promise<{ thetas: number[]; losses: number[] }> {
  const learner = await MetaLearner.create(options);
  const thetas: number[] = [];
  const losses: number[] = [];
  for (let t = 0; t < steps; t++) {
    losses.push((await learner.step()).metaLoss);
    thetas.push(learner.theta().log_lr.data[0]);
  }
  await learner.close();
  return { thetas, losses };
}

test('meta-training learnable_lr_sgd on the quadratic family raises the lr and lowers the meta-loss', async () => {
  for (const estimator of ['pes', 'tes', 'fes'] as const) {
    const { thetas, losses } = await trajectory(familyOptions(1, estimator), 60);
    const start = Math.log(1e-3);
    const head = losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const tail = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    assert.ok(thetas[59] > start + 1.5, `${estimator}: log lr ${start} → ${thetas[59]}`);
    assert.ok(tail < 0.6 * head, `${estimator}: meta-loss ${head} → ${tail}`);
  }
});

test('the same seed gives the same θ trajectory; another seed another one', async () => {
  const a = await trajectory(familyOptions(7), 8);
  const b = await trajectory(familyOptions(7), 8);
  const c = await trajectory(familyOptions(8), 8);
  assert.deepEqual(a.thetas, b.thetas);
  assert.deepEqual(a.losses, b.losses);
  assert.notDeepEqual(a.thetas, c.thetas);
});
