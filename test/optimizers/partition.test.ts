import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Params } from '../../src/engine/tensor.js';
import { adam } from '../../src/optimizers/adam.js';
import { partition } from '../../src/optimizers/partition.js';
import { sgd } from '../../src/optimizers/sgd.js';
import { backendTest, CTX, INIT, t, values } from './helpers.js';

const NAMES = ['mlp/linear_0/b', 'mlp/linear_0/w', 'mlp/linear_1/b', 'mlp/linear_1/w'];
const SHAPES: Record<string, number[]> = { 'mlp/linear_0/b': [4], 'mlp/linear_0/w': [3, 4], 'mlp/linear_1/b': [2], 'mlp/linear_1/w': [4, 2] };

function tree(seed: number, names = NAMES): Params {
  const out: Params = {};
  names.forEach((name, i) => { out[name] = t(SHAPES[name], values(SHAPES[name].reduce((a, b) => a * b, 1), seed * 10 + i)); });
  return out;
}
const pick = (p: Params, names: string[]): Params => Object.fromEntries(names.map((n) => [n, p[n]]));
const BIASES = NAMES.filter((n) => n.endsWith('/b'));
const WEIGHTS = NAMES.filter((n) => n.endsWith('/w'));

backendTest('partition routes biases to sgd and weights to adam: equal to running them separately', (backend) => {
  const P0 = tree(1);
  for (const opt of [
    partition({ '*/b': sgd({ learningRate: 0.1 }, { backend }) }, adam({ learningRate: 1e-2 }, { backend })),
    partition([[/\/b$/, sgd({ learningRate: 0.1 }, { backend })], [(n: string) => n.endsWith('/w'), adam({ learningRate: 1e-2 }, { backend })]]),
  ]) {
    const biasOpt = sgd({ learningRate: 0.1 }, { backend });
    const weightOpt = adam({ learningRate: 1e-2 }, { backend });
    let state = opt.init(P0, INIT);
    let sb = biasOpt.init(pick(P0, BIASES), INIT);
    let sw = weightOpt.init(pick(P0, WEIGHTS), INIT);
    assert.deepEqual(state.names.flat().sort(), [...NAMES].sort());
    for (let k = 0; k < 4; k++) {
      const g = tree(10 + k);
      state = opt.update(state, g, CTX);
      sb = biasOpt.update(sb, pick(g, BIASES), CTX);
      sw = weightOpt.update(sw, pick(g, WEIGHTS), CTX);
    }
    const params = opt.getParams(state);
    assert.deepEqual(Object.keys(params), [...NAMES].sort(), 'name order');
    for (const n of BIASES) assert.deepEqual(Array.from(params[n].data), Array.from(sb.params[n].data), n);
    for (const n of WEIGHTS) assert.deepEqual(Array.from(params[n].data), Array.from(sw.params[n].data), n);
    assert.equal(opt.stateBytes(P0), 8 * (12 + 8), 'adam on the weights only');
  }
});

test('partition: unmatched parameters without a default, empty groups, bad rules', () => {
  const P0 = tree(2);
  const only = partition({ '*/b': sgd() });
  assert.throws(() => only.init(P0, INIT), /parameter "mlp\/linear_0\/w" matches no pattern \(\*\/b\) and no default/);
  const unused = partition({ 'nothing/*': adam(), '*': sgd({ learningRate: 1 }) });
  const state = unused.init(P0, INIT);
  assert.equal(state.states[0], null);
  assert.equal(unused.stateBytes(P0), 0);
  const next = unused.update(state, tree(3), CTX);
  assert.equal(Object.keys(unused.getParams(next)).length, 4);
  assert.throws(() => partition({}), /at least one rule/);
  assert.throws(() => partition({ '*': undefined as never }), /has no optimizer/);
  assert.throws(() => unused.update(unused.init(P0, INIT), pick(tree(3), BIASES), CTX), /no tensor "mlp\/linear_0\/w"/);
});
