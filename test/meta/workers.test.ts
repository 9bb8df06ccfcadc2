import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetaLearner, type MetaTrainOptions } from '../../src/meta/learner.js';
import { workerExecutor } from '../../src/meta/workers.js';
import { localExecutor } from '../../src/meta/slots.js';

const options: MetaTrainOptions = {
  problem: { lopt: 'small_fc_lopt', family: 'quadratic-family-noise', taskOptions: { dim: 8 } },
  estimator: 'pes', numTasks: 5, truncLength: 4, innerSteps: 10, std: 0.01, metaLr: 1e-2,
  outerSteps: 6, seed: 11,
};

async function run(factory: Parameters<typeof MetaLearner.create>[1]): Promise<{ thetas: Float32Array[]; losses: number[]; slots: unknown }> {
  const learner = await MetaLearner.create(options, factory);
  const thetas: Float32Array[] = [];
  const losses: number[] = [];
  try {
    for (let t = 0; t < 6; t++) {
      losses.push((await learner.step()).metaLoss);
      thetas.push(learner.snap.theta.slice());
    }
    const snap = await learner.snapshot();
    return { thetas, losses, slots: snap.slots };
  } finally {
    await learner.close();
  }
}

test('the θ trajectory is the same in this thread, with 1, 2 and 3 worker threads', async () => {
  const here = await run(localExecutor);
  const one = await run(workerExecutor(1));
  const two = await run(workerExecutor(2));
  const three = await run(workerExecutor(3));
  assert.ok(here.thetas[5].some((x, i) => x !== here.thetas[0][i]), 'θ moves');
  for (const other of [one, two, three]) {
    assert.deepEqual(other.thetas, here.thetas);
    assert.deepEqual(other.losses, here.losses);
    assert.deepEqual(other.slots, here.slots);
  }
});

test('an error inside a worker rejects the step with its message (no hang)', async () => {
  const learner = await MetaLearner.create({
    ...options, problem: { lopt: 'learnable_lr_sgd', task: 'cifar10-16-conv', taskOptions: { dataDir: '/nonexistent/lopt-data' } },
  }, workerExecutor(2));
  try {
    await assert.rejects(learner.step(), (e: Error) => e.message.length > 0 && !/\n/.test(e.message));
  } finally {
    await learner.close();
  }
});

test('the worker executor is ready only once every worker has loaded its task: a data error rejects its creation', async () => {
  const { newSlotState, slotKey } = await import('../../src/meta/unroll.js');
  const { keyFromSeed } = await import('../../src/engine/random.js');
  const root = keyFromSeed(3);
  const ctx = {
    problem: { lopt: 'small_fc_lopt', task: 'cifar10-16-conv', taskOptions: { dataDir: '/nonexistent/lopt-data' } },
    root, std: 0.01,
    unroll: { estimator: 'pes' as const, schedule: { kind: 'constant' as const, length: 10 }, initialOffset: 0, metaLossAfterUpdate: false },
  };
  const states = [0, 1].map((i) => newSlotState(slotKey(root, 0, i)));
  const creation = workerExecutor(2)(ctx, states);
  // If creation wrongly succeeds, close the executor so the test fails instead of hanging.
  creation.then((executor) => executor.close(), () => {});
  await assert.rejects(creation, (e: Error) => /CIFAR/i.test(e.message) && !/\n/.test(e.message));
});
