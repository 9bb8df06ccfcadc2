import { test } from 'node:test';
import assert from 'node:assert/strict';
import { downsample, firstReaching, mean, meanCurve, smoothCurve, smoothingWindow, standardError } from '../../../src/study/report/stats.js';

const curve = (losses: number[], dt = 0.5) => losses.map((loss, i) => ({ step: i + 1, loss, wallSeconds: (i + 1) * dt }));

test('mean and standard error (sample standard deviation over √n)', () => {
  assert.equal(mean([1, 2, 3, 6]), 3);
  // deviations −2, −1, 0, 3: Σ² = 14, s² = 14/3, s.e. = √(14/3/4)
  assert.ok(Math.abs(standardError([1, 2, 3, 6]) - Math.sqrt(14 / 3 / 4)) < 1e-12);
  assert.ok(Number.isNaN(standardError([5])));
  assert.ok(Number.isNaN(mean([])));
});

test('the mean curve averages step by step over the steps every run has', () => {
  const a = curve([4, 2, 1]);
  const b = curve([2, 2], 1).concat([{ step: 4, loss: 9, wallSeconds: 4 }]);
  const m = meanCurve([a, b]);
  assert.deepEqual(m.map((p) => p.step), [1, 2]);
  assert.deepEqual(m.map((p) => p.loss), [3, 2]);
  assert.deepEqual(m.map((p) => p.wallSeconds), [0.75, 1.5]);
  assert.deepEqual(meanCurve([]), []);
});

test('a trailing moving average over the window, shorter at the start', () => {
  const s = smoothCurve(curve([6, 0, 3, 3, 9]), 3);
  assert.deepEqual(s.map((p) => p.loss), [6, 3, 3, 2, 5]);
  assert.deepEqual(s.map((p) => p.step), [1, 2, 3, 4, 5]);
  assert.equal(smoothingWindow(2000), 40);
  assert.equal(smoothingWindow(10), 1);
});

test('first point at or below a target, or null', () => {
  const c = curve([5, 4, 3, 2]);
  assert.equal(firstReaching(c, 3)?.step, 3);
  assert.equal(firstReaching(c, 3)?.wallSeconds, 1.5);
  assert.equal(firstReaching(c, 1), null);
});

test('downsampling averages equal bins and keeps short curves as they are', () => {
  const c = curve(Array.from({ length: 10 }, (_, i) => i));
  const d = downsample(c, 5);
  assert.equal(d.length, 5);
  assert.deepEqual(d.map((p) => p.loss), [0.5, 2.5, 4.5, 6.5, 8.5]);
  assert.deepEqual(d.map((p) => p.step), [1.5, 3.5, 5.5, 7.5, 9.5]);
  assert.deepEqual(downsample(c, 20), c);
  const uneven = downsample(curve(Array.from({ length: 7 }, (_, i) => i)), 3);
  // 7 points into 3 bins: [0, 1], [2, 3], [4, 5, 6]
  assert.deepEqual(uneven.map((p) => p.loss), [0.5, 2.5, 5]);
});
