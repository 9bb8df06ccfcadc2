import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal } from '../../src/engine/random.js';
import { cloneParams, type Params, type Tensor } from '../../src/engine/tensor.js';
import { CausalSelfAttention } from '../../src/nn/causal-self-attention.js';
import { GELU } from '../../src/nn/gelu.js';
import { TokenPositionEmbedding } from '../../src/nn/token-position-embedding.js';
import { TransformerBlock } from '../../src/nn/transformer-block.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';
import { probeLoss } from '../fixtures/probe-loss.js';

const randomTensor = (seed: number, shape: number[], std = 1): Tensor =>
  ({ shape, data: normal(keyFromSeed(seed), shape.reduce((a, b) => a * b, 1), std) });

/** Sets every bias of `params` to small random values (biases start at zero). */
function perturbBiases(params: Params, seed: number): void {
  for (const [name, t] of Object.entries(params)) if (name.endsWith('/b')) t.data.set(normal(keyFromSeed(seed++), t.data.length, 0.1));
}

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);

  test(`${backendName}: GELU is jax.nn.gelu's tanh form; its gradient matches finite differences`, () => {
    const gelu = new GELU(backend);
    const x = { shape: [5], data: Float32Array.from([-3, -1, 0, 0.5, 2]) };
    const y = gelu.forward(x);
    const want = [...x.data].map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    want.forEach((w, i) => assert.ok(Math.abs(y.data[i] - w) < 1e-6, `${y.data[i]} vs ${w}`));
    const inputs = { x: randomTensor(1, [3, 7], 2) };
    const probe = probeLoss(2, 21);
    const acts = gelu.createActivations();
    const dx = gelu.backward(probe.grad(gelu.forward(inputs.x, acts)), acts);
    checkGradients(inputs, { x: { shape: dx.shape, data: dx.data.slice() } }, () => probe.value(gelu.forward(inputs.x, gelu.createActivations())), { samples: 21 });
  });

  test(`${backendName}: causal self-attention: no position sees a later one; gradients match finite differences`, () => {
    const attention = new CausalSelfAttention('attn', 8, 2, backend);
    const params = attention.init(keyFromSeed(3));
    perturbBiases(params, 4);
    assert.equal(attention.paramCount, 4 * (8 * 8 + 8));
    const inputs = { x: randomTensor(5, [2, 4, 8]) };
    const y = attention.forward(params, inputs.x).data.slice();
    // Changing the last position leaves every earlier output unchanged.
    const later = { shape: [2, 4, 8], data: inputs.x.data.slice() };
    for (let j = 0; j < 8; j++) later.data[3 * 8 + j] += 1;
    const y2 = attention.forward(params, later, attention.createActivations()).data;
    for (let i = 0; i < 3 * 8; i++) assert.equal(y2[i], y[i], `position ${Math.floor(i / 8)} saw a later one`);
    assert.notEqual(y2[3 * 8], y[3 * 8]);
    const probe = probeLoss(6, 64);
    const acts = attention.createActivations();
    const grads = cloneParams(params);
    const dx = attention.backward(params, probe.grad(attention.forward(params, inputs.x, acts)), grads, acts);
    const inputGrad = { x: { shape: [2, 4, 8], data: dx.data.slice() } };
    const loss = () => probe.value(attention.forward(params, inputs.x, attention.createActivations()));
    checkGradients(params, grads, loss);
    checkGradients(inputs, inputGrad, loss, { samples: 32 });
    assert.throws(() => new CausalSelfAttention('bad', 10, 3, backend), /multiple of heads/);
  });

  test(`${backendName}: token + learned position embedding: lookup, position sums, gradients`, () => {
    const embed = new TokenPositionEmbedding('embed', 6, 4, 5, backend);
    const params = embed.init(keyFromSeed(7));
    assert.deepEqual(Object.keys(params).sort(), ['embed/embed/embeddings', 'embed/positional_embeddings']);
    assert.equal(embed.paramCount, 6 * 4 + 5 * 4);
    assert.ok(params['embed/positional_embeddings'].data.every((v) => Math.abs(v) <= 0.04));
    const ids = Int32Array.from([1, 5, 1, 0, 2, 3]); // two sequences of 3 (shorter than the 5 positions)
    const y = embed.forward(params, ids, 2, 3);
    assert.deepEqual(y.shape, [2, 3, 4]);
    const table = params['embed/embed/embeddings'].data;
    const positions = params['embed/positional_embeddings'].data;
    assert.equal(y.data[4 * 4 + 2], Math.fround(table[2 * 4 + 2] + positions[1 * 4 + 2]));
    const probe = probeLoss(8, 24);
    const acts = embed.createActivations();
    const grads = cloneParams(params);
    embed.backward(probe.grad(embed.forward(params, ids, 2, 3, acts)), grads, acts);
    assert.ok(grads['embed/positional_embeddings'].data.subarray(12).every((v) => v === 0), 'unused positions get 0');
    checkGradients(params, grads, () => probe.value(embed.forward(params, ids, 2, 3, embed.createActivations())), { samples: 24 });
    assert.throws(() => embed.forward(params, new Int32Array(6), 1, 6), /exceed the 5 learned positions/);
  });

  test(`${backendName}: pre-LayerNorm transformer block gradients match finite differences`, () => {
    const block = new TransformerBlock('block', 8, 2, backend);
    const params = block.init(keyFromSeed(9));
    perturbBiases(params, 10);
    assert.equal(block.paramCount, 2 * 16 + 4 * 72 + (8 * 32 + 32) + (32 * 8 + 8));
    const inputs = { x: randomTensor(11, [2, 3, 8]) };
    const probe = probeLoss(12, 48);
    const acts = block.createActivations();
    const grads = cloneParams(params);
    const dx = block.backward(params, probe.grad(block.forward(params, inputs.x, acts)), grads, acts);
    const inputGrad = { x: { shape: [2, 3, 8], data: dx.data.slice() } };
    const loss = () => probe.value(block.forward(params, inputs.x, block.createActivations()));
    checkGradients(params, grads, loss, { samples: 8 });
    checkGradients(inputs, inputGrad, loss, { samples: 24 });
  });
}
