import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Params } from '../../src/engine/tensor.js';
import { chainWith } from '../../src/optimizers/chain.js';
import { withGradientClip } from '../../src/optimizers/clip.js';
import { compileNameMatcher } from '../../src/optimizers/name-match.js';
import { sgd } from '../../src/optimizers/sgd.js';
import { clipByGlobalNorm, clipByValue, decoupledWeightDecay, globalNorm } from '../../src/optimizers/transforms.js';
import { assertClose, backendTest, CTX, INIT, t, values } from './helpers.js';

const P0: Params = { 'mlp/linear_0/w': t([2, 2], [1, -2, 3, 4]), 'mlp/linear_0/b': t([3], [0.5, 0, -1]) };
const G: Params = { 'mlp/linear_0/w': t([2, 2], [-5, 0.25, 3.5, -0.75]), 'mlp/linear_0/b': t([3], [1, -1, 0.5]) };
const W = 'mlp/linear_0/w';
const B = 'mlp/linear_0/b';

function copy(tree: Params): Params {
  const out: Params = {};
  for (const name of Object.keys(tree)) out[name] = t(tree[name].shape, Array.from(tree[name].data));
  return out;
}

backendTest('clipByGlobalNorm scales every gradient by maxNorm/‖g‖ exactly when ‖g‖ > maxNorm', (backend) => {
  const all = [...G[W].data, ...G[B].data];
  const norm = Math.sqrt(all.reduce((s, x) => s + x * x, 0)); // hand computation, float64
  assert.ok(Math.abs(globalNorm(G, backend) - norm) < 1e-12);
  const opt = chainWith({ backend }, clipByGlobalNorm(2, { backend }), sgd({ learningRate: 1 }, { backend }));
  const state = opt.update(opt.init(P0, INIT), G, CTX);
  for (const name of [W, B]) {
    const expected = Array.from(P0[name].data, (p, i) => p - (G[name].data[i] * 2) / norm);
    assertClose(opt.getParams(state)[name].data, expected, name);
  }
  // The clipped gradient (kept in the chained state's working tree) has norm 2.
  assert.ok(Math.abs(globalNorm(state.work.grads!, backend) - 2) < 1e-6);
  // The caller's gradients are untouched.
  assert.deepEqual(Array.from(G[W].data), [-5, 0.25, 3.5, -0.75]);
});

backendTest('clipByGlobalNorm leaves gradients below the norm alone (bit for bit)', (backend) => {
  const clipped = chainWith({ backend }, clipByGlobalNorm(100, { backend }), sgd({ learningRate: 0.1 }, { backend }));
  const plain = sgd({ learningRate: 0.1 }, { backend });
  let a = clipped.init(P0, INIT);
  let b = plain.init(P0, INIT);
  for (let k = 0; k < 3; k++) {
    a = clipped.update(a, G, CTX);
    b = plain.update(b, G, CTX);
  }
  for (const name of [W, B]) assert.deepEqual(Array.from(clipped.getParams(a)[name].data), Array.from(b.params[name].data));
  assert.throws(() => clipByGlobalNorm(0), /max norm/);
});

backendTest('clipByValue clips every element; same as withGradientClip and sgd gradClip', (backend) => {
  const chained = chainWith({ backend }, clipByValue(0.75, { backend }), sgd({ learningRate: 1 }, { backend }));
  const wrapped = withGradientClip(sgd({ learningRate: 1 }, { backend }), 0.75, { backend });
  const builtIn = sgd({ learningRate: 1, gradClip: 0.75 }, { backend });
  let a = chained.init(P0, INIT);
  let b = wrapped.init(P0, INIT);
  let c = builtIn.init(P0, INIT);
  a = chained.update(a, G, CTX);
  assertClose(chained.getParams(a)[W].data, [1 + 0.75, -2 - 0.25, 3 - 0.75, 4 + 0.75], 'w');
  assertClose(chained.getParams(a)[B].data, [0.5 - 0.75, 0.75, -1 - 0.5], 'b');
  b = wrapped.update(b, G, CTX);
  c = builtIn.update(c, G, CTX);
  for (const name of [W, B]) {
    assert.deepEqual(Array.from(b.params[name].data), Array.from(chained.getParams(a)[name].data));
    assert.deepEqual(Array.from(c.params[name].data), Array.from(chained.getParams(a)[name].data));
  }
  // withGradientClip keeps no state beside the inner one: a structuredClone continues identically.
  const clone = structuredClone(b);
  const g2: Params = { [W]: t([2, 2], values(4, 3, 2)), [B]: t([3], values(3, 4, 2)) };
  b = wrapped.update(b, g2, CTX);
  const d = wrapped.update(clone, g2, CTX);
  for (const name of [W, B]) assert.deepEqual(Array.from(d.params[name].data), Array.from(b.params[name].data));
  assert.deepEqual(Object.keys(b).sort(), ['params', 'step']);
});

backendTest('decoupledWeightDecay with a mask decays only the matching parameters (hand-computed)', (backend) => {
  const lr = 0.1;
  const wd = 0.5;
  for (const mask of ['*/w', /\/w$/, '/\\/w$/', (name: string) => name.endsWith('/w'), ['nothing', '*_0/w']] as const) {
    const opt = chainWith({ backend }, sgd({ learningRate: lr }, { backend }), decoupledWeightDecay(wd, { learningRate: lr, mask, backend }));
    let state = opt.init(P0, INIT);
    state = opt.update(state, G, CTX);
    const w = Array.from(P0[W].data, (p, i) => p - lr * G[W].data[i] - lr * wd * p);
    const b = Array.from(P0[B].data, (p, i) => p - lr * G[B].data[i]);
    assertClose(opt.getParams(state)[W].data, w, `w (mask ${String(mask)})`);
    assert.deepEqual(Array.from(opt.getParams(state)[B].data), Array.from(sgd({ learningRate: lr }, { backend }).update(sgd({}, { backend }).init(P0, INIT), G, CTX).params[B].data), 'b is plain sgd');
    assertClose(opt.getParams(state)[B].data, b, 'b');
  }
  // No mask: everything decays; the decay uses the parameters before the step.
  const all = chainWith({ backend }, sgd({ learningRate: lr }, { backend }), decoupledWeightDecay(wd, { learningRate: lr, backend }));
  const s = all.update(all.init(P0, INIT), G, CTX);
  assertClose(all.getParams(s)[B].data, Array.from(P0[B].data, (p, i) => p - lr * G[B].data[i] - lr * wd * p), 'b decays');
});

test('name matchers: globs match whole names, /regex/ strings and RegExps search, lists match any', () => {
  const names = ['mlp/linear_0/w', 'mlp/linear_0/b', 'mlp/linear_1/w', 'conv/w', 'embed'];
  const pick = (m: Parameters<typeof compileNameMatcher>[0]) => names.filter(compileNameMatcher(m));
  assert.deepEqual(pick('*/w'), ['mlp/linear_0/w', 'mlp/linear_1/w', 'conv/w']);
  assert.deepEqual(pick('mlp/*'), ['mlp/linear_0/w', 'mlp/linear_0/b', 'mlp/linear_1/w']);
  assert.deepEqual(pick('mlp/linear_?/b'), ['mlp/linear_0/b']);
  assert.deepEqual(pick('w'), []);
  assert.deepEqual(pick('embed'), ['embed']);
  assert.deepEqual(pick('/linear_1/'), ['mlp/linear_1/w']);
  assert.deepEqual(pick(/^conv|embed/g), ['conv/w', 'embed']);
  assert.deepEqual(pick(['*/b', 'embed']), ['mlp/linear_0/b', 'embed']);
  assert.deepEqual(pick('a.b'), []);
  assert.throws(() => compileNameMatcher('/(/'), /invalid regular expression/);
});

test('transforms copy nothing into the caller: gradients stay as given', () => {
  const g = copy(G);
  const opt = chainWith({}, clipByGlobalNorm(0.1), clipByValue(0.01), sgd({ learningRate: 1 }));
  opt.update(opt.init(P0, INIT), g, CTX);
  assert.deepEqual(g, G);
});
