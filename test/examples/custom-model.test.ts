import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainCustomModel } from '../../examples/custom-model.js';

test('the example trains its own model through the package entry point', () => {
  const losses = trainCustomModel('adam', 400);
  const firstTen = losses.slice(0, 10).reduce((a, b) => a + b, 0) / 10;
  const lastTen = losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
  assert.ok(firstTen > 0.2, `first losses ${firstTen}`);
  assert.ok(lastTen < firstTen / 10, `last losses ${lastTen} vs first ${firstTen}`);
});
