import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal } from '../../src/engine/random.js';
import { cloneParams, countParams, type Params, type Tensor } from '../../src/engine/tensor.js';
import { ResNetBlockV2, type ResNetBlockActivations } from '../../src/nn/resnet-block.js';
import { RESNET18, ResNetV2 } from '../../src/nn/resnet-v2.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';

const randomTensor = (seed: number, shape: number[]): Tensor =>
  ({ shape, data: normal(keyFromSeed(seed), shape.reduce((a, b) => a * b, 1), 1) });

/** Non-trivial BatchNorm scales and offsets (they start at 1 and 0). */
function perturbNorms(params: Params, seed: number): void {
  for (const [name, t] of Object.entries(params)) {
    if (name.endsWith('/scale')) t.data.set(normal(keyFromSeed(seed++), t.data.length, 0.3).map((v) => 1 + v));
    if (name.endsWith('/offset')) t.data.set(normal(keyFromSeed(seed++), t.data.length, 0.3));
  }
}

/** The smallest |ReLU input| of a forward pass: every BatchNorm output of a block. */
function reluMargin(acts: ResNetBlockActivations): number {
  return Math.min(...acts.bns.map((bn) => bn.output!.data.reduce((m, v) => Math.min(m, Math.abs(v)), Infinity)));
}

// Central differences across a ReLU kink are not derivatives: the checks use inputs whose ReLU inputs
// all stay 10h away from 0 (the first such seed), steps of h = 1e-3, and a linear probe loss Σ r·y
// (small, so that float32 rounding of the loss stays far below the tolerance at that step).
const H = 1e-3;

function linearProbe(seed: number, size: number) {
  const r = normal(keyFromSeed(seed), size, 1);
  return {
    value: (y: Tensor) => y.data.reduce((sum, v, i) => sum + r[i] * v, 0),
    grad: (y: Tensor): Tensor => ({ shape: [...y.shape], data: r.slice() }),
  };
}

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);
  const blocks = [
    ['basic, identity shortcut', { inChannels: 3, channels: 3, stride: 1, bottleneck: false, projection: false }],
    ['basic, projection stride 2', { inChannels: 2, channels: 4, stride: 2, bottleneck: false, projection: true }],
    ['bottleneck, projection stride 2', { inChannels: 4, channels: 8, stride: 2, bottleneck: true, projection: true }],
  ] as const;

  for (const [what, options] of blocks) {
    test(`${backendName}: ResNet V2 block (${what}) gradients match finite differences`, () => {
      const block = new ResNetBlockV2('block', { ...options, workspace: { data: new Float32Array(0) } }, backend);
      const params = block.init(keyFromSeed(1));
      perturbNorms(params, 2);
      assert.equal(countParams(params), block.paramCount);
      assert.ok(Object.keys(params).every((name) => !name.endsWith('/b')), 'convolutions without bias');
      const mode = { training: true as const };
      const acts = block.createActivations();
      let seed = 3;
      let inputs = { x: randomTensor(seed, [2, 5, 5, options.inChannels]) };
      let y = block.forward(params, inputs.x, acts, mode);
      while (reluMargin(acts) < 10 * H) {
        inputs = { x: randomTensor(++seed, [2, 5, 5, options.inChannels]) };
        y = block.forward(params, inputs.x, acts, mode);
      }
      assert.deepEqual(y.shape, block.outputShape(inputs.x.shape));
      const probe = linearProbe(4, y.data.length);
      const grads = cloneParams(params);
      const dx = block.backward(params, probe.grad(y), grads, acts);
      const inputGrad = { x: { shape: dx.shape, data: dx.data.slice() } };
      const loss = () => probe.value(block.forward(params, inputs.x, block.createActivations(), mode));
      checkGradients(params, grads, loss, { samples: 6, h: H });
      checkGradients(inputs, inputGrad, loss, { samples: 25, h: H });
    });
  }
}

test('native: a whole tiny ResNet-18 V2: head gradients match finite differences, every gradient flows; evaluation uses the moving averages', () => {
  const backend = backendNamed('native');
  const model = new ResNetV2('resnet', RESNET18, 5, backend, 1 / 16);
  const params = model.init(keyFromSeed(5));
  perturbNorms(params, 6);
  assert.ok(params['resnet/logits/w'].data.every((v) => v === 0), "Haiku's logits start at zero");
  params['resnet/logits/w'].data.set(normal(keyFromSeed(7), params['resnet/logits/w'].data.length, 0.5));
  assert.equal(countParams(params), model.paramCount);
  // Batch 4: the last group runs at 1x1, where BatchNorm over a batch of 2 would map any pair to ±1.
  const images = randomTensor(8, [4, 16, 16, 3]);
  const acts = model.createActivations();
  const state = model.initState();
  const logits = model.forward(params, images, acts, { training: true, state });
  assert.deepEqual(logits.shape, [4, 5]);
  const probe = linearProbe(9, 20);
  const grads = cloneParams(params);
  model.backward(params, probe.grad(logits), grads, acts);
  for (const [name, g] of Object.entries(grads)) {
    assert.ok(g.data.every(Number.isFinite) && g.data.some((v) => v !== 0), `${name}: no gradient`);
  }
  // The head (final BatchNorm, ReLU, mean, logits): the final ReLU's inputs are far from its kink.
  assert.ok(acts.finalBn.output!.data.every((v) => Math.abs(v) > 10 * H));
  const head = Object.fromEntries(Object.entries(params).filter(([name]) => /final_batchnorm|logits/.test(name)));
  checkGradients(head, grads, () => probe.value(model.forward(params, images, model.createActivations(), { training: true })), { h: H });
  // One training pass moved every BatchNorm's averages once: zero-debiased, they are that batch's
  // statistics, so evaluation on the same images reproduces training (up to the variance's round trip).
  assert.ok(Object.entries(state).every(([name, t]) => !name.endsWith('/counter') || t.data[0] === 1));
  const trained = model.forward(params, images, model.createActivations(), { training: true }).data.slice();
  const evaluated = model.forward(params, images, model.createActivations(), { training: false, state }).data;
  evaluated.forEach((v, i) => assert.ok(Math.abs(v - trained[i]) < 1e-3, `logit ${i}: ${v} vs ${trained[i]}`));
  // A second batch moves the averages: evaluation no longer equals training on the first.
  model.forward(params, randomTensor(10, [4, 16, 16, 3]), model.createActivations(), { training: true, state });
  const moved = model.forward(params, images, model.createActivations(), { training: false, state }).data;
  assert.ok(moved.some((v, i) => Math.abs(v - trained[i]) > 1e-2));
});
