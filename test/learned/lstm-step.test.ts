// One step of Haiku's LSTM against a cell computed by hand (gate order i, g, f, o; forget bias +1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getBackend } from '../../src/engine/select.js';
import { LstmStep } from '../../src/learned/lstm-step.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

for (const name of ['reference', 'native'] as const) {
  test(`LstmStep matches a hand-computed Haiku cell [${name}]`, () => {
    // 2 rows, 1 input, 1 hidden: W [2, 4] over [x, h], gates i, g, f, o.
    const w = Float32Array.of(
      0.5, -1.0, 0.25, 2.0, // from x
      1.5, 0.5, -0.5, -1.0, // from h
    );
    const b = Float32Array.of(0.1, 0.2, -0.3, 0.4);
    const x = Float32Array.of(0.8, -1.2);
    const h = Float32Array.of(0.3, -0.6);
    const c = Float32Array.of(-0.7, 1.1);
    const expected = [0, 1].map((r) => {
      const z = [0, 1, 2, 3].map((j) => x[r] * w[j] + h[r] * w[4 + j] + b[j]);
      const [i, g, f, o] = z;
      const cNext = sigmoid(f + 1) * c[r] + sigmoid(i) * Math.tanh(g);
      return { h: sigmoid(o) * Math.tanh(cNext), c: cNext };
    });
    const step = new LstmStep(getBackend(name), 2, 1, 1);
    const out = step.step(x, h, c, w, b);
    assert.equal(out, h, 'returns the new h (in place)');
    for (let r = 0; r < 2; r++) {
      assert.ok(Math.abs(h[r] - expected[r].h) < 1e-6, `h[${r}] ${h[r]} vs ${expected[r].h}`);
      assert.ok(Math.abs(c[r] - expected[r].c) < 1e-6, `c[${r}] ${c[r]} vs ${expected[r].c}`);
    }
    // A wrong gate order would give other values: e.g. swapping g and f.
    const [i, f, g, o] = [0, 1, 2, 3].map((j) => x[0] * w[j] + 0.3 * w[4 + j] + b[j]);
    const swapped = sigmoid(o) * Math.tanh(sigmoid(f + 1) * -0.7 + sigmoid(i) * Math.tanh(g));
    assert.ok(Math.abs(swapped - expected[0].h) > 1e-3);
  });
}
