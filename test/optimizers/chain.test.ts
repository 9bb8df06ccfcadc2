import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyFromSeed } from '../../src/engine/random.js';
import { cloneParams, type Params } from '../../src/engine/tensor.js';
import { learned } from '../../src/learned/registry.js';
import { adam } from '../../src/optimizers/adam.js';
import { chain, chainWith } from '../../src/optimizers/chain.js';
import type { Optimizer } from '../../src/optimizers/optimizer.js';
import { partition } from '../../src/optimizers/partition.js';
import { sgd } from '../../src/optimizers/sgd.js';
import { sgdm } from '../../src/optimizers/sgdm.js';
import { constantSchedule, warmupCosineSchedule } from '../../src/optimizers/step-schedules.js';
import { clipByGlobalNorm, clipByValue, decoupledWeightDecay, scaleBySchedule } from '../../src/optimizers/transforms.js';
import { assertClose, backendTest, CTX, t, values } from './helpers.js';

const P0: Params = {
  'mlp/linear_0/b': t([4], values(4, 1)),
  'mlp/linear_0/w': t([3, 4], values(12, 2)),
  'mlp/linear_1/b': t([2], values(2, 3)),
  'mlp/linear_1/w': t([4, 2], values(8, 4)),
};

function gradsAt(k: number, scale = 1): Params {
  const out: Params = {};
  Object.keys(P0).forEach((name, i) => { out[name] = t(P0[name].shape, values(P0[name].data.length, 100 * k + i, scale)); });
  return out;
}

function run<S>(opt: Optimizer<S>, steps: number, numSteps = steps, from?: S, first = 0): S {
  let state = from ?? opt.init(P0, { numSteps, key: keyFromSeed(0) });
  for (let k = first; k < first + steps; k++) state = opt.update(state, gradsAt(k), { loss: 1 / (k + 1) });
  return state;
}

function same(a: Params, b: Params, what: string): void {
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), `${what}: names`);
  for (const name of Object.keys(b)) assert.deepEqual(Array.from(a[name].data), Array.from(b[name].data), `${what}: ${name}`);
}

backendTest('scheduled SGD equals SGD with lr·s(t) at each step', (backend) => {
  const lr = 0.1;
  const schedule = warmupCosineSchedule({ warmupSteps: 3, end: 0.2 });
  const opt = chainWith({ backend }, sgd({ learningRate: lr }, { backend }), scaleBySchedule(schedule, { backend }));
  const steps = 12;
  let state = opt.init(P0, { numSteps: steps });
  let ref = sgd({}, { backend }).init(P0, { numSteps: steps });
  for (let k = 0; k < steps; k++) {
    state = opt.update(state, gradsAt(k), CTX);
    ref = sgd({ learningRate: lr * schedule(k, steps) }, { backend }).update(ref, gradsAt(k), CTX);
    assert.equal(state.step, k + 1);
    for (const name of Object.keys(P0)) assertClose(opt.getParams(state)[name].data, ref.params[name].data, `step ${k} ${name}`, 1e-6, 1e-6);
  }
  // Step 0 of a warmup from 0 does not move the parameters.
  const first = opt.update(opt.init(P0, { numSteps: steps }), gradsAt(0), CTX);
  same(opt.getParams(first), P0, 'warmup step 0');
});

backendTest('a learned optimizer’s step scaled by 0 leaves the parameters, by 1 is the plain optimizer', (backend) => {
  const lo = learned.get('small_fc_lopt', {}, { backend });
  const theta = lo.init(keyFromSeed(3));
  const plain = lo.optFn(theta);
  const zero = chainWith({ backend }, lo.optFn(theta), scaleBySchedule(constantSchedule(0), { backend }));
  const one = chainWith({ backend }, lo.optFn(theta), scaleBySchedule(constantSchedule(1), { backend }));
  const half = chainWith({ backend }, lo.optFn(theta), scaleBySchedule(constantSchedule(0.5), { backend }));
  same(zero.getParams(run(zero, 4)), P0, 'scale 0');
  const reference = plain.getParams(run(plain, 4));
  same(one.getParams(run(one, 4)), reference, 'scale 1');
  assert.notDeepEqual(Array.from(reference['mlp/linear_0/w'].data), Array.from(P0['mlp/linear_0/w'].data));
  // One step at 0.5 is half the plain step.
  const p1 = plain.getParams(run(plain, 1));
  const h1 = half.getParams(run(half, 1));
  for (const name of Object.keys(P0)) {
    assertClose(h1[name].data, Array.from(P0[name].data, (p, i) => p + 0.5 * (p1[name].data[i] - p)), name, 1e-6, 1e-7);
  }
});

backendTest('the chained state is plain data: a structuredClone continues bit-identically', (backend) => {
  const lo = learned.get('small_fc_lopt', {}, { backend });
  const theta = lo.init(keyFromSeed(5));
  const build = () => chainWith(
    { backend },
    clipByGlobalNorm(0.5, { backend }),
    clipByValue(0.2, { backend }),
    partition({ '*/b': sgdm({ learningRate: 0.05 }, { backend }), 'mlp/linear_1/*': lo.optFn(theta) }, adam({ learningRate: 1e-2 }, { backend })),
    decoupledWeightDecay(0.1, { learningRate: 1e-2, mask: '*/w', backend }),
    scaleBySchedule(warmupCosineSchedule({ warmupSteps: 2 }), { backend }),
  );
  const opt = build();
  const mid = run(opt, 3, 8);
  const snapshot = structuredClone(mid);
  assert.equal(snapshot.step, 3);
  assert.equal(snapshot.numSteps, 8);
  assert.equal(snapshot.states.length, 5);
  const cont = run(opt, 5, 8, mid, 3);
  // A fresh chain (same configuration) continuing from the clone.
  const other = build();
  const resumed = run(other, 5, 8, snapshot, 3);
  same(other.getParams(resumed), opt.getParams(cont), 'resumed from a clone');
  // And the uninterrupted run agrees.
  const straight = build();
  same(straight.getParams(run(straight, 8, 8)), opt.getParams(cont), 'uninterrupted');
});

test('chain checks its elements: exactly one optimizer, step transforms after it', () => {
  assert.throws(() => chain(clipByGlobalNorm(1)), /exactly one optimizer/);
  assert.throws(() => chain(sgd(), adam()), /exactly one optimizer.*partition/);
  assert.throws(() => chain(scaleBySchedule(constantSchedule(1)), sgd()), /after the optimizer/);
  assert.throws(() => chain(decoupledWeightDecay(0.1), sgd()), /after the optimizer/);
  assert.throws(() => chain(42 as never, sgd()), /element 0/);
  const opt = chain(clipByGlobalNorm(1), adam(), decoupledWeightDecay(0.1), scaleBySchedule(constantSchedule(0.5)));
  assert.equal(opt.name, 'clipGlobalNorm(1)+adam+weightDecay(0.1)+schedule(constant(0.5))');
  assert.equal(opt.stateBytes(P0), adam().stateBytes(P0));
  assert.throws(() => opt.update(opt.init(P0, { numSteps: 2 }), { 'mlp/linear_0/w': P0['mlp/linear_0/w'] }, CTX), /no tensor "mlp\/linear_0\/b"/);
  // A chain is an optimizer: chains nest.
  const nested = chain(clipByValue(1), chain(sgd({ learningRate: 1 }), scaleBySchedule(constantSchedule(0.5))));
  const s = nested.update(nested.init(P0, { numSteps: 1 }), gradsAt(0, 3), CTX);
  const g = gradsAt(0, 3);
  for (const name of Object.keys(P0)) {
    assertClose(nested.getParams(s)[name].data, Array.from(P0[name].data, (p, i) => p - 0.5 * Math.min(1, Math.max(-1, g[name].data[i]))), name, 1e-6, 1e-7);
  }
  assert.deepEqual(cloneParams(P0), P0, 'the initial parameters are untouched');
});
