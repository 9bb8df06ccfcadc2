// The masked LM loss (src/nn/masked-softmax-cross-entropy.ts): padded rows (label 0) are left out of
// the mean and get zero gradient; its buffers are the caller's, so two passes can interleave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, normal } from '../../src/engine/random.js';
import type { Tensor } from '../../src/engine/tensor.js';
import { MaskedSoftmaxCrossEntropy } from '../../src/nn/masked-softmax-cross-entropy.js';
import { SoftmaxCrossEntropy } from '../../src/nn/softmax-cross-entropy.js';
import { BACKEND_NAMES, backendNamed } from '../fixtures/backends.js';

const CLASSES = 5;
const logitsOf = (seed: number, rows: number): Tensor => ({ shape: [rows, CLASSES], data: normal(keyFromSeed(seed), rows * CLASSES) });

for (const name of BACKEND_NAMES) {
  test(`masked cross-entropy (${name}): the mean over unpadded rows, zero gradient on padded ones`, () => {
    const backend = backendNamed(name);
    const masked = new MaskedSoftmaxCrossEntropy(backend, 0);
    const plain = new SoftmaxCrossEntropy(backend);
    const logits = logitsOf(1, 4);
    const labels = Int32Array.from([3, 0, 1, 0]);
    const { loss, dlogits } = masked.lossAndGrad(logits, labels);
    const kept: Tensor = { shape: [2, CLASSES], data: Float32Array.from([...logits.data.subarray(0, 5), ...logits.data.subarray(10, 15)]) };
    const expected = plain.lossAndGrad(kept, Int32Array.from([3, 1]));
    assert.ok(Math.abs(loss - expected.loss) < 1e-6, `${loss} vs ${expected.loss}`);
    assert.ok(Math.abs(masked.loss(logits, labels) - expected.loss) < 1e-6);
    assert.deepEqual(dlogits.data.subarray(0, 5), expected.dlogits.data.subarray(0, 5));
    assert.deepEqual(dlogits.data.subarray(10, 15), expected.dlogits.data.subarray(5, 10));
    assert.ok(dlogits.data.subarray(5, 10).every((v) => v === 0) && dlogits.data.subarray(15).every((v) => v === 0));
  });

  test(`masked cross-entropy (${name}): two activations objects keep two passes apart`, () => {
    const masked = new MaskedSoftmaxCrossEntropy(backendNamed(name), 0);
    const [l1, l2] = [logitsOf(2, 3), logitsOf(3, 3)];
    const [y1, y2] = [Int32Array.from([0, 2, 4]), Int32Array.from([1, 0, 0])];
    const first = masked.lossAndGrad(l1, y1, masked.createActivations()).dlogits.data.slice();
    const [a, b] = [masked.createActivations(), masked.createActivations()];
    const fromA = masked.lossAndGrad(l1, y1, a).dlogits;
    masked.lossAndGrad(l2, y2, b);
    assert.deepEqual(fromA.data, first, 'the second pass did not overwrite the first one\'s gradient');
  });
}
