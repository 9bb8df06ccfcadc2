import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed } from '../../src/engine/random.js';
import { cloneParams, type Params } from '../../src/engine/tensor.js';
import { Embedding } from '../../src/nn/embedding.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';
import { checkGradients } from '../fixtures/gradcheck.js';
import { probeLoss } from '../fixtures/probe-loss.js';

test('Embedding parameters: Haiku name, shape and truncated normal σ = 1 init', () => {
  const embed = new Embedding('embed', 256, 64, backendNamed('reference'));
  const params = embed.init(keyFromSeed(0));
  assert.deepEqual(Object.keys(params), ['embed/embeddings']);
  assert.deepEqual(params['embed/embeddings'].shape, [256, 64]);
  assert.equal(embed.paramCount, 16_384);
  const table = params['embed/embeddings'].data;
  assert.ok(table.every((v) => Math.abs(v) <= 2));
  const variance = table.reduce((s, v) => s + v * v, 0) / table.length;
  assert.ok(Math.abs(variance - 0.7737) < 0.03, `variance ${variance}`);
});

for (const backendName of BACKEND_NAMES) {
  const backend = backendNamed(backendName);

  test(`${backendName}: Embedding looks rows up and scatter-adds gradients, repeated ids accumulating`, () => {
    const embed = new Embedding('embed', 4, 3, backend);
    const params: Params = { 'embed/embeddings': { shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i) } };
    const ids = Int32Array.from([2, 0, 2, 3]);
    const y = embed.forward(params, ids, [2, 2]);
    assert.deepEqual(y.shape, [2, 2, 3]);
    assert.deepEqual([...y.data], [6, 7, 8, 0, 1, 2, 6, 7, 8, 9, 10, 11]);
    ids[0] = 1; // the layer keeps its own copy of the ids for backward
    const grads = cloneParams(params); // not zero: backward must overwrite
    embed.backward({ shape: [2, 2, 3], data: Float32Array.from([1, 2, 3, 10, 20, 30, 100, 200, 300, -1, -2, -3]) }, grads);
    assert.deepEqual([...grads['embed/embeddings'].data], [10, 20, 30, 0, 0, 0, 101, 202, 303, -1, -2, -3]);
    assert.throws(() => embed.forward(params, Int32Array.from([4])), /id 4 outside \[0, 4\)/);
    assert.throws(() => embed.forward(params, Int32Array.from([-1])), /id -1/);
    assert.throws(() => embed.forward(params, Int32Array.from([1, 2]), [3]), /shape/);
  });

  test(`${backendName}: Embedding table gradient matches finite differences`, () => {
    const embed = new Embedding('embed', 5, 4, backend);
    const params = embed.init(keyFromSeed(1));
    const ids = Int32Array.from([0, 3, 3, 1, 4, 0]);
    const probe = probeLoss(2, ids.length * 4);
    const grads = cloneParams(params);
    embed.backward(probe.grad(embed.forward(params, ids)), grads);
    checkGradients(params, grads, () => probe.value(embed.forward(params, ids)), { samples: 20 });
  });
}
