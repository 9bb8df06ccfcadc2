import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learnableLrSgd } from '../../src/learned/learnable-sgd.js';
import { getTask } from '../../src/tasks/registry.js';
import { train } from '../../src/training/train.js';
import { MetaLearner, type MetaTrainOptions } from '../../src/meta/learner.js';
import { reduceSlot, accumulateSlot, sanitize } from '../../src/meta/estimators.js';

const LR = 0.05;
const K = 5;
// LO's runs take T trained steps plus one reset step, so with T = 2K − 1 a run spans two truncations.
const T = 2 * K - 1;

/** E loss_k of SGD on the quadratic (dim 4): 4·(1 − 2 lr₁)^(2·min(k, K))·(1 − 2 lr₂)^(2·max(k − K, 0)). */
function expectedLoss(lr1: number, lr2: number, k: number): number {
  return 4 * (1 - 2 * lr1) ** (2 * Math.min(k, K)) * (1 - 2 * lr2) ** (2 * Math.max(k - K, 0));
}

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

test('PES on a quadratic agrees with the derivative of the expected unrolled loss, as LO attributes it', async () => {
  const logLr = Math.log(LR);
  const learner = await MetaLearner.create({
    problem: { lopt: 'learnable_lr_sgd', task: 'quadratic', taskOptions: { dim: 4 } },
    estimator: 'pes', numTasks: 256, truncLength: K, innerSteps: T, initialOffset: 0,
    std: 0.01, metaLr: 0, outerSteps: 1, seed: 3,
    theta: { log_lr: { shape: [1], data: Float32Array.of(logLr) } },
  });
  // θ stays fixed: the first truncation trains steps 0..K−1; the second trains K..T−1 (the last one
  // done) and then resets (mask 0).
  const first: number[] = [];
  const second: number[] = [];
  for (let r = 0; r < 24; r++) {
    const est = await learner.estimate();
    (r % 2 === 0 ? first : second).push(est.grad[0]);
    assert.equal(est.nanCount, 0);
  }
  await learner.close();
  const h = 1e-2;
  const d = (f: (l: number) => number) => (f(logLr + h) - f(logLr - h)) / (2 * h);
  const mean = (from: number, to: number, f: (k: number) => number) => {
    let s = 0;
    for (let k = from; k < to; k++) s += f(k) / (to - from);
    return s;
  };
  // The analytic expectation agrees with finite differences of real runs.
  const fd1 = (windowLoss(logLr + h, 0, K, 400) - windowLoss(logLr - h, 0, K, 400)) / (2 * h);
  const an1 = d((l) => mean(0, K, (k) => expectedLoss(Math.exp(l), Math.exp(l), k)));
  assert.ok(Math.abs(fd1 - an1) < 0.1 * Math.abs(an1), `finite differences ${fd1} vs analytic ${an1}`);
  // Second truncation: steps K..T−2 carry the whole dependence (accumulator + ε); the done step's loss
  // counts with this truncation's ε alone (LO's inclusive cumsum of is_done), i.e. through lr₂ only.
  const an2 = (d((l) => mean(K, T - 1, (k) => expectedLoss(Math.exp(l), Math.exp(l), k))) * (T - 1 - K)
    + d((l) => expectedLoss(LR, Math.exp(l), T - 1))) / (T - K);
  for (const [name, values, expected] of [['first', first, an1], ['second', second, an2]] as const) {
    const { mean: m, se } = meanAndSe(values);
    assert.ok(expected < 0, `${name}: a larger lr lowers the loss (${expected})`);
    assert.ok(Math.abs(m - expected) < 4 * se + 0.02 * Math.abs(expected), `${name} truncation: PES ${m} ± ${se} vs expected ${expected}`);
    assert.ok(Math.abs(m - expected) < 0.15 * Math.abs(expected), `${name} truncation: PES ${m} vs expected ${expected}`);
  }
});

test('the PES accumulator rule and the reductions follow docs/specification.md §20', () => {
  // Steps as an LO unroll gives them: Δ = 1, 2, –, 4; the run's last step is step 1 (done, mask 1), step
  // 2 is the reset (mask 0, loss 0), step 3 the new run's first. The done step counts in `new`.
  const r = {
    pos: Float64Array.of(2, 4, 0, 8), neg: Float64Array.of(1, 2, 0, 4),
    done: Uint8Array.of(0, 1, 0, 0), mask: Uint8Array.of(1, 1, 0, 1), innerSteps: 6,
  };
  const red = reduceSlot(r);
  assert.equal(red.finished, true);
  assert.equal(red.old, 1 / 3);
  assert.equal(red.new, (2 + 4) / 3);
  assert.equal(red.loss, (1.5 + 3 + 6) / 3);
  const eps = Float32Array.of(0.5, -1);
  const acc = Float32Array.of(2, 3);
  const grad = new Float64Array(2);
  accumulateSlot('pes', red, eps, acc, grad);
  assert.ok(Math.abs(grad[0] - ((1 / 3) * 2.5 + 2 * 0.5)) < 1e-12 && Math.abs(grad[1] - ((1 / 3) * 2 + 2 * -1)) < 1e-12, `${grad}`);
  assert.deepEqual([...acc], [0.5, -1]); // finished: acc ← ε
  const unfinished = { ...red, finished: false };
  accumulateSlot('pes', unfinished, eps, acc, new Float64Array(2));
  assert.deepEqual([...acc], [1, -2]); // acc ← acc + ε
  const tes = new Float64Array(2);
  accumulateSlot('tes', red, eps, null, tes);
  assert.ok(Math.abs(tes[0] - (7 / 3) * 0.5) < 1e-12 && Math.abs(tes[1] + 7 / 3) < 1e-12, `${tes}`);
});

test('NaN rules: a NaN or ±Inf averaged loss becomes 20, NaN and ±Inf gradient entries 0, counted; θ does not move', async () => {
  const grad = Float64Array.of(1, NaN, 3, NaN, Infinity, -Infinity);
  assert.deepEqual(sanitize(NaN, grad), { loss: 20, nanCount: 5 });
  assert.deepEqual([...grad], [1, 0, 3, 0, 0, 0]);
  assert.deepEqual(sanitize(Infinity, Float64Array.of(2)), { loss: 20, nanCount: 1 });
  assert.deepEqual(sanitize(-Infinity, Float64Array.of(2)), { loss: 20, nanCount: 1 });
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

test('the meta-optimizer is LO\'s Adam, with eps_root 1e-8 inside the square root', async () => {
  const learner = await MetaLearner.create({
    problem: { lopt: 'learnable_lr_sgd', task: 'quadratic', taskOptions: { dim: 4 } },
    estimator: 'pes', numTasks: 1, truncLength: 2, innerSteps: 10, std: 0.01, metaLr: 0.1, outerSteps: 1, seed: 0,
    theta: { log_lr: { shape: [1], data: Float32Array.of(0) } },
  });
  // First step: m̂ = g, v̂ = g²; with g = 1e-5 the update is lr·g / (sqrt(g² + 1e-8) + 1e-8) ≈ 0.0995·lr,
  // where plain Adam (no eps_root) would move by ≈ lr.
  learner.applyGradient({ grad: Float64Array.of(-1e-5), metaLoss: 1, nanCount: 0, innerSteps: 0, seconds: 1 });
  const g = 1e-5;
  const expected = (0.1 * g) / (Math.sqrt(g * g + 1e-8) + 1e-8);
  assert.ok(Math.abs(learner.theta().log_lr.data[0] - expected) < 1e-7, `${learner.theta().log_lr.data[0]} vs ${expected}`);
  await learner.close();
});

test('evaluateOptimizer runs a hand-designed optimizer on the same evaluation runs as evaluateTheta', async () => {
  const { evaluateOptimizer, evaluateTheta } = await import('../../src/meta/learner.js');
  const { getOptimizer } = await import('../../src/optimizers/index.js');
  const options = { problem: { lopt: 'learnable_lr_sgd', family: 'quadratic-family', taskOptions: { dim: 5 } }, seed: 4, evalSeeds: 3, innerSteps: 30 } as const;
  const at = { outerStep: 7, thetaVersion: 7 };
  const lr = 0.03;
  const learned = evaluateTheta(options as never, { log_lr: { shape: [1], data: Float32Array.of(Math.log(lr)) } }, at);
  const sgd = evaluateOptimizer(options as never, getOptimizer('sgd', { learningRate: Math.fround(Math.exp(Math.fround(Math.log(lr)))) }), at);
  assert.equal(sgd.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.equal(sgd[i].evalSeed, i);
    assert.ok(Math.abs(sgd[i].evalLoss - learned[i].evalLoss) < 1e-4 * learned[i].evalLoss, `${sgd[i].evalLoss} vs ${learned[i].evalLoss}`);
  }
  assert.notEqual(sgd[0].evalLoss, sgd[1].evalLoss); // different evaluation runs per seed
});
