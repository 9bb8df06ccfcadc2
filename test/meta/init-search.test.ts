import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initialThetaKey, searchInitialTheta } from '../../src/meta/init-search.js';
import { historyFile, metaTrain, INIT_SEARCH_FILE } from '../../src/meta/run.js';
import { buildLopt } from '../../src/meta/problem.js';
import { loadTheta } from '../../src/meta/theta-file.js';
import { flattenParams } from '../../src/engine/tensor.js';

const problem = { lopt: 'small_fc_lopt', task: 'fmnist-mlp', taskOptions: { batchSize: 32 } };

test('init search keeps the candidate with the lowest judging loss, which is the initial θ of that seed', () => {
  const found = searchInitialTheta(problem, 10, 4, 40);
  assert.equal(found.losses.length, 4);
  const best = found.losses.indexOf(Math.min(...found.losses));
  assert.equal(found.seed, 10 + best);
  // Untrained draws behave differently: the candidates' losses are not all equal.
  assert.ok(Math.max(...found.losses.filter(Number.isFinite)) - Math.min(...found.losses) > 1e-3, String(found.losses));
  const lopt = buildLopt(problem);
  assert.deepEqual(flattenParams(found.theta), flattenParams(lopt.init(initialThetaKey(found.seed))));
});

test('a run with an init search starts from the chosen θ and records the search', async () => {
  const out = mkdtempSync(join(tmpdir(), 'lopt-init-search-'));
  try {
    await metaTrain({
      out, problem, estimator: 'pes', numTasks: 2, truncLength: 4, innerSteps: 20, std: 0.01, metaLr: 1e-3,
      outerSteps: 1, seed: 10, evalEvery: 1, evalSeeds: 1, evalSteps: 10, checkpointEvery: 0, initSearch: { count: 4, steps: 40 },
    });
    const record = JSON.parse(readFileSync(join(out, INIT_SEARCH_FILE), 'utf8')) as { chosenSeed: number; losses: number[] };
    assert.equal(record.losses.length, 4);
    const lopt = buildLopt(problem);
    assert.deepEqual(flattenParams(loadTheta(historyFile(out, 0)).theta), flattenParams(lopt.init(initialThetaKey(record.chosenSeed))));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
