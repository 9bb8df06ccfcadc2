import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cosineSchedule } from '../../src/optimizers/schedules.js';

const close = (a: number, e: number, what: string) =>
  assert.ok(Math.abs(a - e) <= 1e-12 * Math.max(1, Math.abs(e)), `${what}: got ${a}, expected ${e}`);

const hp = (over: Partial<Parameters<typeof cosineSchedule>[2]> = {}) => ({
  learningRate: 2, warmupFraction: 0, constantFraction: 0, minLearningRateMult: 0, ...over,
});

test('no warmup, no constant: half-cosine from lr at step 0 to min at T', () => {
  const T = 100;
  close(cosineSchedule(0, T, hp()), 2, 'step 0');
  close(cosineSchedule(50, T, hp()), 1, 'midpoint');
  close(cosineSchedule(25, T, hp()), 2 * (Math.cos(Math.PI / 4) / 2 + 0.5), 'quarter');
  close(cosineSchedule(100, T, hp()), 0, 'end');
});

test('constant segment holds lr until c = constantFraction·T, then cosine over T − c', () => {
  const T = 100;
  const h = hp({ constantFraction: 0.6, minLearningRateMult: 0.25 });
  for (const step of [0, 1, 30, 59, 60]) close(cosineSchedule(step, T, h), 2, `step ${step}`);
  const min = 0.5;
  close(cosineSchedule(70, T, h), (2 - min) * (Math.cos((Math.PI * 10) / 40) / 2 + 0.5) + min, 'step 70');
  close(cosineSchedule(80, T, h), (2 - min) * 0.5 + min, 'step 80 (halfway through decay)');
  close(cosineSchedule(100, T, h), min, 'end at the floor minLearningRateMult·lr');
});

test('the step is clamped to T: past the end stays at the floor', () => {
  const h = hp({ constantFraction: 0.5, minLearningRateMult: 0.1 });
  close(cosineSchedule(10, 10, h), 0.2, 'at T');
  close(cosineSchedule(11, 10, h), 0.2, 'past T');
  close(cosineSchedule(1e6, 10, h), 0.2, 'far past T');
  const hw = hp({ warmupFraction: 0.5, minLearningRateMult: 0.1 });
  close(cosineSchedule(50, 10, hw), 0.2, 'past T with warmup');
});

test('warmup ramps linearly from 0 over warmupFraction·T, then cosine from c (c < warmup)', () => {
  const T = 100;
  const h = hp({ warmupFraction: 0.1, constantFraction: 0.05 });
  close(cosineSchedule(0, T, h), 0, 'step 0');
  close(cosineSchedule(5, T, h), 1, 'half warmup');
  close(cosineSchedule(9, T, h), 1.8, 'last warmup step');
  // At the end of warmup the cosine is already 5 steps past c = 5 (LO's schedule, kept as is).
  close(cosineSchedule(10, T, h), 2 * (Math.cos((Math.PI * 5) / 95) / 2 + 0.5), 'first step after warmup');
});

test('warmup spans max(warmup, constant)·T when the constant fraction is larger', () => {
  const T = 100;
  const h = hp({ warmupFraction: 0.01, constantFraction: 0.4, minLearningRateMult: 0.5 });
  close(cosineSchedule(0, T, h), 0, 'step 0');
  close(cosineSchedule(1, T, h), 2 / 40, 'step 1: ramp over 40 steps, not 1');
  close(cosineSchedule(20, T, h), 1, 'step 20');
  close(cosineSchedule(39, T, h), 2 * 39 / 40, 'step 39');
  close(cosineSchedule(40, T, h), 2, 'step 40: cosine starts at lr');
  close(cosineSchedule(70, T, h), (2 - 1) * 0.5 + 1, 'step 70');
  close(cosineSchedule(100, T, h), 1, 'end');
});

test('warmupFraction 0 means no warmup (lr at step 0)', () => {
  close(cosineSchedule(0, 100, hp({ constantFraction: 0.3 })), 2, 'step 0');
});

test('degenerate runs: constantFraction 1 and T = 0 stay at lr instead of NaN', () => {
  const h = hp({ constantFraction: 1, minLearningRateMult: 0.1 });
  for (const step of [0, 5, 10, 20]) close(cosineSchedule(step, 10, h), 2, `constant 1, step ${step}`);
  close(cosineSchedule(0, 0, hp()), 2, 'T = 0');
  close(cosineSchedule(0, 0, hp({ warmupFraction: 0.1 })), 2, 'T = 0 with warmup');
});
