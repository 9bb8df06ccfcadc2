import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dominates, eligible, paretoFrontier, paretoMask, type ParetoPoint } from '../../src/study/pareto.js';
import { mulberry32 } from '../fixtures/prng.js';

type Named = ParetoPoint & { name: string };
const pt = (name: string, cost: number, loss: number, trained = true): Named => ({ name, cost, loss, trained });
const names = (points: Named[]) => paretoFrontier(points).map((p) => p.name);

test('the frontier of a hand-made set: dominated points drop out, order is by increasing cost', () => {
  const points = [
    pt('sgd', 1, 0.9), pt('adam', 1.2, 0.6), pt('nadamw', 1.3, 0.5), pt('sgdm', 1.05, 0.95),
    pt('small_fc_lopt', 1.5, 0.4), pt('fc_lopt', 3, 0.45), pt('rnn_fc_lopt', 8, 0.3),
  ];
  assert.deepEqual(names(points), ['sgd', 'adam', 'nadamw', 'small_fc_lopt', 'rnn_fc_lopt']);
  assert.deepEqual(paretoMask(points), [true, true, true, false, true, false, true]);
});

test('untrained points are never on the frontier and never push a trained point off it', () => {
  const points = [pt('sgd', 1, 0.9), pt('adam', 2, 0.6), pt('untrained', 0.5, 0.1, false), pt('fc', 3, 0.5)];
  // The untrained point would dominate every other point; it must be ignored entirely.
  assert.deepEqual(names(points), ['sgd', 'adam', 'fc']);
  assert.equal(paretoMask(points)[2], false);
});

test('ties: identical points are both on the frontier; equal loss at higher cost, or equal cost at higher loss, is dominated', () => {
  const points = [pt('a', 1, 0.5), pt('a2', 1, 0.5), pt('b', 2, 0.5), pt('c', 1, 0.7), pt('d', 0.5, 0.9)];
  assert.deepEqual(paretoMask(points), [true, true, false, false, true]);
  assert.deepEqual(names(points), ['d', 'a', 'a2']);
});

test('points with a non-finite loss or cost (diverged, unmeasured) take no part', () => {
  const points = [pt('diverged', 0.1, NaN), pt('inf', 0.1, Infinity), pt('unmeasured', NaN, 0.01), pt('ok', 1, 1)];
  assert.deepEqual(names(points), ['ok']);
  assert.equal(eligible(points[0]), false);
  assert.deepEqual(paretoFrontier([]), []);
});

test('the sweep agrees with the pairwise definition on random sets with ties and untrained points', () => {
  const rand = mulberry32(7);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rand() * 12);
    // Few distinct values so that ties on one or both axes are common.
    const points = Array.from({ length: n }, (_, i) => pt(String(i), Math.floor(rand() * 5), Math.floor(rand() * 5), rand() > 0.2));
    const expected = points.map((p) => eligible(p) && !points.some((q) => eligible(q) && dominates(q, p)));
    assert.deepEqual(paretoMask(points), expected, JSON.stringify(points));
  }
});
