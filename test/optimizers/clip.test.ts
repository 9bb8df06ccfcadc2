import assert from 'node:assert/strict';
import type { Params } from '../../src/engine/tensor.js';
import { adam } from '../../src/optimizers/adam.js';
import { withGradientClip } from '../../src/optimizers/clip.js';
import { sgd } from '../../src/optimizers/sgd.js';
import { sgdm } from '../../src/optimizers/sgdm.js';
import { assertClose, backendTest, CTX, INIT, t } from './helpers.js';

const P0: Params = { w: t([2, 2], [1, 2, 3, 4]), b: t([3], [0, 0, 0]) };
const G: Params = { w: t([2, 2], [-5, 0.25, 3.5, -0.75]), b: t([3], [1, -1, 0.5]) };

backendTest('withGradientClip clips every element to [−c, c] before the inner optimizer', (backend) => {
  const opt = withGradientClip(sgd({ learningRate: 1 }, { backend }), 0.75, { backend });
  let state = opt.init(P0, INIT);
  state = opt.update(state, G, CTX);
  assertClose(opt.getParams(state).w.data, [1 + 0.75, 2 - 0.25, 3 - 0.75, 4 + 0.75], 'w');
  assertClose(opt.getParams(state).b.data, [-0.75, 0.75, -0.5], 'b');
  // The caller's gradients are untouched.
  assert.deepEqual(Array.from(G.w.data), [-5, 0.25, 3.5, -0.75]);
  state = opt.update(state, G, CTX);
  assertClose(opt.getParams(state).w.data, [1 + 1.5, 2 - 0.5, 3 - 1.5, 4 + 1.5], 'w after 2 steps');
  assert.equal(state.step, 2, 'the state is the inner optimizer state');
});

backendTest('gradClip hyperparameter wraps; state and stateBytes are the inner optimizer’s', (backend) => {
  const clipped = sgdm({ learningRate: 0.1, gradClip: 1 }, { backend });
  const plain = sgdm({ learningRate: 0.1 }, { backend });
  assert.match(clipped.name, /gradclip/);
  assert.equal(plain.name, 'sgdm');
  assert.equal(clipped.hparams.gradClip, 1);
  assert.equal(clipped.stateBytes(P0), plain.stateBytes(P0));
  const s = clipped.update(clipped.init(P0, INIT), G, CTX);
  assert.ok('momentum' in s);
  assertClose(s.momentum.w.data, [-1, 0.25, 1, -0.75], 'momentum holds the clipped gradient');
});

backendTest('clipped adam equals adam on pre-clipped gradients', (backend) => {
  const a = adam({ learningRate: 0.1, gradClip: 0.5 }, { backend });
  const b = adam({ learningRate: 0.1 }, { backend });
  let sa = a.init(P0, INIT);
  let sb = b.init(P0, INIT);
  const pre: Params = {};
  for (const name of Object.keys(G)) pre[name] = t(G[name].shape, Array.from(G[name].data, (x) => Math.min(0.5, Math.max(-0.5, x))));
  for (let k = 0; k < 2; k++) {
    sa = a.update(sa, G, CTX);
    sb = b.update(sb, pre, CTX);
  }
  for (const name of Object.keys(P0)) assert.deepEqual(Array.from(sa.params[name].data), Array.from(sb.params[name].data));
});

backendTest('withGradientClip rejects a bad clip value and mismatched gradients', (backend) => {
  assert.throws(() => withGradientClip(sgd({}, { backend }), 0, { backend }), /clip value/);
  assert.throws(() => withGradientClip(sgd({}, { backend }), -1, { backend }), /clip value/);
  const opt = withGradientClip(sgd({}, { backend }), 1, { backend });
  const state = opt.init(P0, INIT);
  assert.throws(() => opt.update(state, { w: G.w }, CTX), /no tensor "b"/);
});
