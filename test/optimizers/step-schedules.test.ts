import assert from 'node:assert/strict';
import { test } from 'node:test';
import { constantSchedule, linearSchedule, piecewiseConstantSchedule, warmupCosineSchedule } from '../../src/optimizers/step-schedules.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

test('constant schedule, with and without warmup', () => {
  const plain = constantSchedule(0.5);
  for (const step of [0, 7, 1000]) assert.equal(plain(step, 100), 0.5);
  const warm = constantSchedule(1, { warmupSteps: 10 });
  assert.equal(warm(0, 100), 0);
  close(warm(4, 100), 0.4, 'warmup 4/10');
  assert.equal(warm(10, 100), 1);
  assert.equal(warm(99, 100), 1);
});

test('linear schedule: warmup, then linear decay to end over the run or decaySteps', () => {
  const s = linearSchedule({ warmupSteps: 10, peak: 2, end: 0.5 });
  assert.equal(s(0, 110), 0);
  close(s(5, 110), 1, 'warmup half');
  assert.equal(s(10, 110), 2);
  close(s(60, 110), 1.25, 'half way (2 → 0.5)');
  close(s(110, 110), 0.5, 'end');
  close(s(500, 110), 0.5, 'after the end');
  const fixed = linearSchedule({ decaySteps: 20 });
  close(fixed(5, 1000), 0.75, 'decaySteps 20, step 5');
  assert.equal(fixed(20, 1000), 0);
});

test('cosine schedule: warmup, then (1 + cos(π·progress))/2 from peak to end', () => {
  const s = warmupCosineSchedule({ warmupSteps: 10, end: 0.1 });
  close(s(2, 110), 0.2, 'warmup');
  assert.equal(s(10, 110), 1);
  close(s(35, 110), 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)), 'quarter');
  close(s(60, 110), 0.55, 'half');
  close(s(110, 110), 0.1, 'end');
  close(s(200, 110), 0.1, 'clamped');
  // No warmup, run length from numSteps.
  const noWarm = warmupCosineSchedule();
  assert.equal(noWarm(0, 50), 1);
  close(noWarm(25, 50), 0.5, 'half of 50');
});

test('piecewise constant schedule: absolute values from each boundary on', () => {
  const s = piecewiseConstantSchedule(1, { 200: 0.01, 100: 0.1 });
  assert.equal(s(0, 10), 1);
  assert.equal(s(99, 10), 1);
  assert.equal(s(100, 10), 0.1);
  assert.equal(s(199, 10), 0.1);
  assert.equal(s(200, 10), 0.01);
  assert.equal(s(10_000, 10), 0.01);
  assert.throws(() => piecewiseConstantSchedule(1, { 10: -1 }), /value at 10/);
  assert.throws(() => constantSchedule(1, { warmupSteps: 1.5 }), /warmupSteps must be an integer/);
});
