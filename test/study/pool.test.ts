import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handDesignedSpec } from '../../src/study/optimizer-spec.js';
import { RunPool } from '../../src/study/pool.js';
import { makeJob } from '../../src/study/run-job.js';

const job = (seed: number) => makeJob({
  purpose: 'search', task: 'fmnist-mlp', taskOpts: { width: 16 }, spec: handDesignedSpec('sgd', { learningRate: 0.1 }),
  seed, steps: 5, stepMultiplier: 1, curve: false,
});

test('RunPool: jobs run in worker threads; shouldStop hands out no more; results match the jobs', async () => {
  const pool = new RunPool({ workers: 1, backend: 'auto' });
  try {
    const done: number[] = [];
    const result = await pool.runAll([job(1), job(2), job(3), job(4)], {
      shouldStop: () => done.length >= 2,
      onDone: (j, outcome) => {
        assert.equal(outcome.status, 'done');
        assert.equal(outcome.stepsDone, 5);
        done.push(j.seed);
      },
    });
    assert.deepEqual(done, [1, 2]);
    assert.deepEqual(result, { completed: 2, remaining: 2 });
  } finally {
    await pool.close();
  }
});

test('RunPool: a worker that cannot load the backend the study resolved fails loudly, never falls back', async () => {
  const saved = process.env.LOPT_NATIVE_ADDON;
  process.env.LOPT_NATIVE_ADDON = '/nonexistent/lopt_native.node'; // worker threads read it as they start
  const pool = new RunPool({ workers: 1, backend: 'native' });
  try {
    await assert.rejects(pool.runAll([job(1)], { onDone: () => assert.fail('no run may finish') }), /fmnist-mlp\/sgd seed 1: the native backend cannot load/);
  } finally {
    if (saved === undefined) delete process.env.LOPT_NATIVE_ADDON;
    else process.env.LOPT_NATIVE_ADDON = saved;
    await pool.close();
  }
});
