// The divergence rule (src/meta/divergence.ts) on its own, and through train(): NaN/±Inf losses, a
// smoothed loss above the initial loss for the window, and noisy runs that must not trip it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DIVERGENCE_RULE, DivergenceDetector, describeDivergence, findDivergence, resolveDivergenceRule } from '../../src/meta/divergence.js';
import { train } from '../../src/training/train.js';
import { getOptimizer } from '../../src/optimizers/registry.js';
import { getTask } from '../../src/tasks/registry.js';
import { backendNamed } from '../fixtures/backends.js';
import { mulberry32 as rng } from '../fixtures/prng.js';

test('the defaults are stated: EMA factor 0.9, window 100, tolerance 10%', () => {
  assert.deepEqual({ ...DEFAULT_DIVERGENCE_RULE }, { smoothing: 0.9, window: 100, tolerance: 0.1 });
  assert.deepEqual(resolveDivergenceRule({ window: 5 }), { smoothing: 0.9, window: 5, tolerance: 0.1 });
  assert.throws(() => resolveDivergenceRule({ smoothing: 1 }), /smoothing must be in \[0, 1\)/);
  assert.throws(() => resolveDivergenceRule({ window: 2.5 }), /window must be a non-negative integer/);
  assert.throws(() => resolveDivergenceRule({ tolerance: -1 }), /tolerance must be a finite number/);
  assert.throws(() => resolveDivergenceRule({ nope: 1 } as never), /unknown divergence setting "nope"/);
});

test('a NaN or ±Inf loss diverges at its own step, whatever the window', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const losses = [2.3, 2.2, 2.1, bad, 1.0];
    const found = findDivergence(losses);
    assert.ok(found, String(bad));
    assert.equal(found.step, 4);
    assert.equal(found.reason, 'non-finite');
    assert.ok(Object.is(found.loss, bad));
    assert.equal(describeDivergence(found), `the loss is ${bad}`);
    assert.equal(findDivergence(losses, { window: 0 })?.step, 4);
  }
  assert.equal(findDivergence([NaN, 1, 1])?.step, 1);
});

test('the smoothed loss above the initial loss for the whole window diverges at the window\'s last step', () => {
  // Step 1 at 2; from step 2 on the loss is 10: s_2 = 0.9·2 + 0.1·10 = 2.8 > 2.2 already.
  const losses = [2, ...new Array(200).fill(10)];
  const found = findDivergence(losses);
  assert.ok(found);
  assert.equal(found.reason, 'smoothed');
  assert.equal(found.step, 101);
  assert.equal(found.initialLoss, 2);
  assert.ok(Math.abs(found.threshold - 2.2) < 1e-12);
  assert.ok(found.smoothedLoss! > 9.99);
  assert.match(describeDivergence(found), /smoothed loss \(exponential moving average, factor 0\.9\) stayed above 2\.2000 \(the initial loss 2\.0000 \+ 10%\) for 100 steps/);
  // One step short of the window: not diverged.
  assert.equal(findDivergence(losses.slice(0, 100)), undefined);
  // The window and the smoothing are settings.
  assert.equal(findDivergence(losses, { window: 10 })?.step, 11);
  // Without smoothing the raw loss counts; with heavy smoothing the EMA crosses 2.2 later.
  assert.equal(findDivergence(losses, { window: 10, smoothing: 0 })?.step, 11);
  const slow = findDivergence(losses, { window: 10, smoothing: 0.99 })!;
  assert.ok(slow.step > 11, `${slow.step}`); // s_t > 2.2 needs 1 − 0.99^(t−1) > 0.025: t ≥ 4
  assert.equal(slow.step, 13);
  // A window of 0 is NaN/Inf only.
  assert.equal(findDivergence(losses, { window: 0 }), undefined);
  // A higher tolerance moves the threshold above the plateau.
  assert.equal(findDivergence(losses, { tolerance: 4 }), undefined);
});

test('the window counts consecutive steps: a dip below the threshold starts it again', () => {
  const losses = [2];
  for (let i = 0; i < 300; i++) losses.push(i % 80 === 79 ? -1000 : 10); // a deep dip every 80 steps
  assert.equal(findDivergence(losses), undefined);
  assert.equal(findDivergence(losses, { window: 50 })?.step, 51);
});

test('noisy but non-diverging runs do not trip it', () => {
  const random = rng(7);
  // A decreasing loss with large multiplicative noise (±40%) and occasional spikes far above the
  // initial loss (2% of steps, +5).
  const decreasing = Array.from({ length: 2000 }, (_, i) => {
    const base = 0.3 + 2 * Math.exp(-i / 200);
    if (i === 0) return base;
    const spike = random() < 0.02 ? 5 : 0;
    return base * (0.6 + 0.8 * random()) + spike;
  });
  assert.equal(findDivergence(decreasing), undefined);
  // A stalled run at chance level whose first batch happened to be easy: noisy, never 10% above.
  const stalled = [2.25, ...Array.from({ length: 2000 }, () => 2.3026 + 0.1 * (random() - 0.5))];
  assert.equal(findDivergence(stalled), undefined);
  // A loss that rises for a while (warm-up, a bump) and comes back within the window.
  const bump = Array.from({ length: 1000 }, (_, i) => (i > 50 && i < 130 ? 4 : 2 * Math.exp(-i / 500)) + 0.05 * random());
  assert.equal(findDivergence(bump), undefined);
});

test('the detector reports once, at the first diverging step, and keeps it', () => {
  const detector = new DivergenceDetector({ window: 3 });
  const seen = [5, 100, 100, 100, NaN, 100].map((loss) => detector.push(loss));
  assert.deepEqual(seen.map((d) => d?.step), [undefined, undefined, undefined, 4, undefined, undefined]);
  assert.equal(detector.divergence?.step, 4);
  assert.equal(detector.divergence?.reason, 'smoothed');
});

const backend = backendNamed('native');
const fmnist = () => getTask('fmnist-mlp', { backend, width: 16 });

test('train(): a non-diverging run is unchanged and says diverged: false', () => {
  const result = train({ task: fmnist(), optimizer: getOptimizer('adam', { learningRate: 1e-3 }, { backend }), steps: 30, seed: 2, onDiverge: 'stop' });
  assert.equal(result.diverged, false);
  assert.equal(result.divergedAt, undefined);
  assert.equal(result.stepsDone, 30);
  assert.equal(result.losses.length, 30);
  let sum = 0;
  for (const loss of result.losses) sum += loss;
  assert.equal(result.meanLoss, sum / 30);
});

test('train(): SGD at lr 1e3 diverges; by default it runs every step, with onDiverge "stop" it stops there', () => {
  const run = (onDiverge?: 'stop' | 'continue') => {
    const calls: number[] = [];
    const result = train({
      task: fmnist(), optimizer: getOptimizer('sgd', { learningRate: 1e3 }, { backend }), steps: 150, seed: 0, onDiverge,
      evalEvery: 1000, onDivergence: (d) => calls.push(d.step),
    });
    return { result, calls };
  };
  const full = run();
  assert.equal(full.result.diverged, true);
  const at = full.result.divergedAt!;
  assert.ok(at >= 2 && at < 150, `diverged at ${at}`);
  assert.deepEqual(full.calls, [at]);
  assert.equal(full.result.stepsDone, 150);
  assert.equal(full.result.losses.length, 150);
  assert.equal(full.result.divergence?.step, findDivergence(full.result.losses)?.step);

  const stopped = run('stop');
  assert.equal(stopped.result.divergedAt, at);
  assert.equal(stopped.result.stepsDone, at);
  assert.deepEqual(stopped.result.losses, full.result.losses.slice(0, at));
  assert.equal(stopped.result.finalLoss, full.result.losses[at - 1]);
  let sum = 0;
  for (const loss of stopped.result.losses) sum += loss;
  assert.equal(stopped.result.meanLoss, sum / at);
  // The run's end is the stop step: evaluated there.
  assert.deepEqual(stopped.result.evaluations.map((e) => e.step), [at]);
});
