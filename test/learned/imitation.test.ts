// Imitation initialisation (src/learned/imitation.ts) on real fmnist-mlp runs:
// - the recorded MLP input rows are exactly what the kernel applies: with the student itself as the
//   teacher, θ reproduces the recorded steps (relative error at float32 rounding);
// - fitting small_fc_lopt to Adam's steps lowers the imitation error well below where it starts, and
//   the fitted θ's steps correlate with Adam's on runs it was not fitted on.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import { getOptimizer } from '../../src/optimizers/registry.js';
import { fitImitation, imitationError, imitationRounds, mergeRecordings, recordImitation } from '../../src/learned/imitation.js';
import { smallFcLopt } from '../../src/learned/small-fc-lopt.js';
import { getTask } from '../../src/tasks/registry.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';

const task = getTask('fmnist-mlp');

for (const backendName of BACKEND_NAMES) {
  describe(`imitation on the ${backendName} backend`, () => {
    const backend = backendNamed(backendName);
    const theta = smallFcLopt({}, { backend }).init(keyFromSeed(3));
    const student = (b: typeof backend) => smallFcLopt({}, { backend: b }).optFn(theta);

    it('records the rows the kernel applies: the student imitates itself exactly', () => {
      const data = recordImitation({
        task, backend, student, teacher: () => student(backend), steps: 6, seeds: [5], every: 3, perTensor: 16, follow: 'student',
      });
      const tensors = Object.keys(task.init(keyFromSeed(0))).length;
      assert.equal(data.count, 2 * tensors * 16, 'two recorded steps, every tensor, 16 elements each');
      assert.equal(data.width, smallFcLopt().inputWidth);
      assert.ok(data.targets.some((t) => t !== 0), 'the steps are not all zero');
      assert.ok(imitationError(theta, data) < 1e-6, `self-imitation error ${imitationError(theta, data)}`);
      const dense = recordImitation({
        task, backend, student, teacher: () => student(backend), steps: 6, seeds: [5], every: 3, perTensor: 16, follow: 'student', denseSteps: 2,
      });
      assert.equal(dense.count, 3 * tensors * 16, 'steps 0 and 1 (dense) and 3');
      assert.deepEqual(dense.targets.subarray(0, tensors * 16), data.targets.subarray(0, tensors * 16), 'step 0 as before');
    });
  });
}

// The fit itself is backend-independent float64 code; its recording runs on native (the TypeScript
// backend is ~100x slower on fmnist-mlp's GEMMs).
it('fits small_fc_lopt to Adam\'s steps', () => {
  const backend = backendNamed('native');
  const theta = smallFcLopt({}, { backend }).init(keyFromSeed(3));
  const student = (b: typeof backend) => smallFcLopt({}, { backend: b }).optFn(theta);
  const teacher = () => getOptimizer('adam', { learningRate: 3e-3 });
  const common = { task, backend, student, teacher, steps: 30, every: 2, perTensor: 24 } as const;
  const fitOn = recordImitation({ ...common, seeds: [7] });
  const heldOut = recordImitation({ ...common, seeds: [8] });
  const fit = fitImitation(theta, fitOn, { iterations: 150, learningRate: 1e-2 });
  assert.ok(fit.lossBefore > 0.5, `a fresh θ is far from Adam (error ${fit.lossBefore})`);
  assert.ok(fit.lossAfter < 0.5 * fit.lossBefore, `fitted error ${fit.lossAfter} against ${fit.lossBefore}`);
  assert.ok(imitationError(fit.theta, heldOut) < 0.6 * imitationError(theta, heldOut), 'the fit carries over to another run');
  for (const name of ['momentum_decays', 'rms_decays', 'adafactor_decays']) {
    assert.deepEqual(fit.theta[name].data, theta[name].data, `${name} are left as they were`);
  }
});

it('mergeRecordings joins recordings; balance weights each by its own step scale', () => {
  const backend = backendNamed('native');
  const theta = smallFcLopt({}, { backend }).init(keyFromSeed(3));
  const student = (b: typeof backend) => smallFcLopt({}, { backend: b }).optFn(theta);
  const common = { task, backend, student, steps: 8, every: 4, perTensor: 8, seeds: [7] } as const;
  const small = recordImitation({ ...common, teacher: () => getOptimizer('adam', { learningRate: 1e-4 }) });
  const large = recordImitation({ ...common, teacher: () => getOptimizer('adam', { learningRate: 1e-2 }) });
  const plain = mergeRecordings([small, large]);
  assert.equal(plain.count, small.count + large.count);
  assert.equal(plain.weights, undefined);
  assert.deepEqual(plain.targets.subarray(small.count), large.targets);
  assert.deepEqual(plain.inputs.subarray(small.count * small.width), large.inputs);

  const balanced = mergeRecordings([small, large], { balance: true });
  const weightedSquares = (from: number, to: number) => {
    let sum = 0;
    for (let i = from; i < to; i++) sum += balanced.weights![i] * balanced.targets[i] ** 2;
    return sum / (to - from);
  };
  assert.ok(Math.abs(weightedSquares(0, small.count) - 1) < 1e-9, 'each recording\'s weighted mean square is 1');
  assert.ok(Math.abs(weightedSquares(small.count, balanced.count) - 1) < 1e-9);
  // Unbalanced, the large-step recording decides the error; balanced, the two count alike.
  assert.ok(imitationError(theta, plain) > 0 && Number.isFinite(imitationError(theta, balanced)));
  assert.equal(small.count, large.count);
  assert.ok(Math.abs(imitationError(theta, balanced) - (imitationError(theta, small) + imitationError(theta, large)) / 2) < 1e-9,
    'balanced: the mean of the two recordings\' relative errors');
  assert.ok(Math.abs(imitationError(theta, plain) - imitationError(theta, large)) < 0.01 * imitationError(theta, large),
    'unbalanced: the large steps decide the error');
  assert.throws(() => mergeRecordings([]), /no recordings/);
});

it('imitationRounds: the teacher leads round 1, the student fitted so far leads the next; each round refits on all samples', () => {
  const backend = backendNamed('native');
  const start = smallFcLopt({}, { backend }).init(keyFromSeed(3));
  const calls: Array<{ follow: string; sameTheta: boolean }> = [];
  const { theta, rounds } = imitationRounds({
    theta: start, rounds: 2, balance: true, fit: { iterations: 20, learningRate: 1e-2 },
    record: (current, follow) => {
      calls.push({ follow, sameTheta: current === start });
      return [recordImitation({
        task, backend, steps: 8, seeds: [7], every: 4, perTensor: 8, follow,
        teacher: () => getOptimizer('adam', { learningRate: 3e-3 }),
        student: (b) => smallFcLopt({}, { backend: b }).optFn(current),
      })];
    },
  });
  assert.deepEqual(calls, [{ follow: 'teacher', sameTheta: true }, { follow: 'student', sameTheta: false }]);
  assert.deepEqual(rounds.map((r) => [r.round, r.follow]), [[1, 'teacher'], [2, 'student']]);
  assert.equal(rounds[1].samples, 2 * rounds[0].samples);
  assert.ok(rounds[0].lossAfter < rounds[0].lossBefore, 'the fit lowers the error');
  assert.notEqual(theta, start);
});
