import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldIn, keyFromSeed } from '../../src/engine/random.js';
import { optimizers } from '../../src/optimizers/registry.js';
import {
  LR_GRID, lrGrid, NADAMW_SPACE, nadamwConfigs, nadamwDraw, nadamwList, sampleNadamw, searchConfigs, type NadamwConfig,
} from '../../src/study/search-space.js';

test('learning-rate grid: every half decade from 1e-7 to 1, 15 values', () => {
  assert.equal(LR_GRID.length, 15);
  assert.equal(LR_GRID[0], 1e-7);
  assert.equal(LR_GRID[14], 1);
  assert.equal(LR_GRID[6], 1e-4);
  for (let i = 1; i < LR_GRID.length; i++) {
    assert.ok(Math.abs(Math.log10(LR_GRID[i] / LR_GRID[i - 1]) - 0.5) < 1e-12, `step ${i} is half a decade`);
  }
  assert.deepEqual(lrGrid(), [...LR_GRID]);
  assert.deepEqual(lrGrid(100), [...LR_GRID]);
  // A smaller budget spreads over the grid, both ends included.
  assert.deepEqual(lrGrid(3), [1e-7, LR_GRID[7], 1]);
  assert.deepEqual(lrGrid(1), [LR_GRID[7]]);
  assert.equal(new Set(lrGrid(8)).size, 8);
  assert.throws(() => lrGrid(0), /positive integer/);
  for (const name of ['sgd', 'sgdm', 'adam']) {
    assert.deepEqual(searchConfigs(name, 15).map((c) => c.learningRate), [...LR_GRID]);
  }
  assert.deepEqual(searchConfigs('sgd', 4, { lrGrid: [1e-3, 1e-2] }), [{ learningRate: 1e-3 }, { learningRate: 1e-2 }]);
  assert.throws(() => searchConfigs('small_fc_lopt', 3), /no search space/);
});

test("NAdamW list: LO's 1,000 configurations in order, valid for lopt's nadamw, then fresh draws", () => {
  const list = nadamwList();
  assert.equal(list.length, 1000);
  // docs/specification.md §8: entry 0.
  assert.deepEqual(list[0], {
    learningRate: 0.0011948335721160095, beta1: 0.9360043452616368, beta2: 0.9989497406214962,
    epsilon: 5.875814422073298e-6, useNesterov: false, l2WeightDecay: 0, adamwWeightDecay: 0.010141964334059882,
    warmupFraction: 0, constantFraction: 0.747304046223346, minLearningRateMult: 0,
  });
  assert.deepEqual(optimizers.resolve('nadamw', {}), { ...optimizers.resolve('nadamw', { ...list[0] }) }, 'lopt nadamw defaults are entry 0');
  for (const c of list.slice(0, 50)) optimizers.resolve('nadamw', { ...c });
  const five = nadamwConfigs(5);
  assert.deepEqual(five, list.slice(0, 5));
  const more = nadamwConfigs(1003);
  assert.deepEqual(more.slice(0, 1000), [...list]);
  assert.deepEqual(more.slice(1000), [nadamwDraw(0), nadamwDraw(1), nadamwDraw(2)]);
  assert.deepEqual(nadamwConfigs(1001).at(-1), more[1000], 'a larger budget extends the same stream');
  assert.notDeepEqual(nadamwDraw(0), nadamwDraw(1));
});

function inRange(c: NadamwConfig): void {
  const s = NADAMW_SPACE;
  const within = (x: number, [lo, hi]: readonly number[], what: string) => assert.ok(x >= lo && x <= hi, `${what} ${x} in [${lo}, ${hi}]`);
  within(c.learningRate, s.learningRate, 'lr');
  within(1 - c.beta1, s.oneMinusBeta1, '1 - beta1');
  within(1 - c.beta2, s.oneMinusBeta2, '1 - beta2');
  within(c.epsilon, s.epsilon, 'epsilon');
  if (c.l2WeightDecay !== 0) within(c.l2WeightDecay, s.weightDecay, 'l2');
  if (c.adamwWeightDecay !== 0) within(c.adamwWeightDecay, s.weightDecay, 'adamw');
  assert.ok(c.l2WeightDecay !== 0 || c.adamwWeightDecay !== 0, 'never both decays zero');
  if (c.minLearningRateMult !== 0) within(c.minLearningRateMult, s.minLearningRateMult, 'min lr mult');
  if (c.warmupFraction !== 0) within(c.warmupFraction, s.warmupFraction, 'warmup');
  within(c.constantFraction, s.constantFraction, 'constant');
}

/** Fractions of the draws with each discrete outcome, and where the log-uniform fields fall. */
function statistics(configs: readonly NadamwConfig[]) {
  const n = configs.length;
  const frac = (pred: (c: NadamwConfig) => boolean) => configs.filter(pred).length / n;
  // Position of x in [lo, hi] on a log scale: uniform on [0, 1] for a log-uniform draw.
  const logPos = (x: number, [lo, hi]: readonly number[]) => Math.log(x / lo) / Math.log(hi / lo);
  const s = NADAMW_SPACE;
  const positions = {
    lr: configs.map((c) => logPos(c.learningRate, s.learningRate)),
    beta1: configs.map((c) => logPos(1 - c.beta1, s.oneMinusBeta1)),
    beta2: configs.map((c) => logPos(1 - c.beta2, s.oneMinusBeta2)),
    epsilon: configs.map((c) => logPos(c.epsilon, s.epsilon)),
    l2: configs.filter((c) => c.l2WeightDecay > 0).map((c) => logPos(c.l2WeightDecay, s.weightDecay)),
    adamw: configs.filter((c) => c.adamwWeightDecay > 0).map((c) => logPos(c.adamwWeightDecay, s.weightDecay)),
    minLr: configs.filter((c) => c.minLearningRateMult > 0).map((c) => logPos(c.minLearningRateMult, s.minLearningRateMult)),
    warmup: configs.filter((c) => c.warmupFraction > 0).map((c) => logPos(c.warmupFraction, s.warmupFraction)),
    constant: configs.map((c) => c.constantFraction),
  };
  return {
    nesterov: frac((c) => c.useNesterov),
    both: frac((c) => c.l2WeightDecay > 0 && c.adamwWeightDecay > 0),
    l2Zero: frac((c) => c.l2WeightDecay === 0),
    adamwZero: frac((c) => c.adamwWeightDecay === 0),
    minLrOn: frac((c) => c.minLearningRateMult > 0),
    warmupOn: frac((c) => c.warmupFraction > 0),
    positions,
  };
}

/** Checks positions are uniform on [0, 1]: mean, quartile fractions and the largest CDF gap (KS). */
function assertUniform(values: number[], what: string, tolerance: number): void {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  assert.ok(Math.abs(mean - 0.5) < tolerance, `${what}: mean position ${mean}`);
  const sorted = [...values].sort((a, b) => a - b);
  let ks = 0;
  sorted.forEach((v, i) => { ks = Math.max(ks, Math.abs(v - (i + 0.5) / n)); });
  assert.ok(ks < 1.8 / Math.sqrt(n), `${what}: Kolmogorov-Smirnov distance ${ks} (n ${n})`);
  assert.ok(sorted[0] >= 0 && sorted[n - 1] <= 1, `${what}: positions inside the range`);
}

test('App. F.2 sampler: every draw in range; probabilities and log-uniform shapes as the paper states', () => {
  const n = 6000;
  const root = keyFromSeed(77);
  const draws = Array.from({ length: n }, (_, i) => sampleNadamw(foldIn(root, i)));
  for (const c of draws) inRange(c);
  const st = statistics(draws);
  // 4.5 standard errors of a proportion at n = 6000.
  const tol = (p: number) => 4.5 * Math.sqrt((p * (1 - p)) / n);
  assert.ok(Math.abs(st.nesterov - 0.5) < tol(0.5), `nesterov ${st.nesterov}`);
  assert.ok(Math.abs(st.both - 1 / 3) < tol(1 / 3), `both decays ${st.both}`);
  assert.ok(Math.abs(st.l2Zero - 1 / 3) < tol(1 / 3), `l2 zeroed ${st.l2Zero}`);
  assert.ok(Math.abs(st.adamwZero - 1 / 3) < tol(1 / 3), `adamw zeroed ${st.adamwZero}`);
  assert.ok(Math.abs(st.minLrOn - 0.5) < tol(0.5), `min lr mult on ${st.minLrOn}`);
  assert.ok(Math.abs(st.warmupOn - 0.5) < tol(0.5), `warmup on ${st.warmupOn}`);
  for (const [name, values] of Object.entries(st.positions)) assertUniform(values, name, 4.5 * Math.sqrt(1 / 12 / values.length));
  // Draws are reproducible from their key.
  assert.deepEqual(sampleNadamw(foldIn(root, 3)), draws[3]);
});

test("LO's list was drawn from the same space: ranges and probabilities agree with the sampler's reading", () => {
  const list = nadamwList();
  for (const c of list) inRange(c);
  const st = statistics(list);
  const n = list.length;
  const tol = (p: number) => 4.5 * Math.sqrt((p * (1 - p)) / n);
  assert.ok(Math.abs(st.nesterov - 0.5) < tol(0.5), `nesterov ${st.nesterov}`);
  assert.ok(Math.abs(st.l2Zero - 1 / 3) < tol(1 / 3), `l2 zeroed ${st.l2Zero}`);
  assert.ok(Math.abs(st.adamwZero - 1 / 3) < tol(1 / 3), `adamw zeroed ${st.adamwZero}`);
  assert.ok(Math.abs(st.minLrOn - 0.5) < tol(0.5), `min lr mult on ${st.minLrOn}`);
  assert.ok(Math.abs(st.warmupOn - 0.5) < tol(0.5), `warmup on ${st.warmupOn}`);
  for (const [name, values] of Object.entries(st.positions)) assertUniform(values, `list ${name}`, 4.5 * Math.sqrt(1 / 12 / values.length));
});
