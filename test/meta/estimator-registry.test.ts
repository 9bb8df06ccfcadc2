import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contribute, initialSlotStates, reduceSlot, type SlotReduction } from '../../src/meta/estimator.js';
import { ESTIMATOR_KINDS, estimatorList, getEstimator, isEstimatorKind } from '../../src/meta/estimators/index.js';
import { accumulateSlot } from '../../src/meta/estimators.js';
import { newSlotState } from '../../src/meta/unroll.js';
import { keyFromSeed, normal, foldIn } from '../../src/engine/random.js';
import type { UnrollResult } from '../../src/meta/unroll.js';

/** The formulas as they were written before estimators became objects (string switch on the kind). */
function previousAccumulate(kind: string, red: SlotReduction, eps: Float32Array, acc: Float32Array | null, grad: Float64Array): void {
  if (kind === 'pes') {
    for (let j = 0; j < eps.length; j++) {
      const a = acc![j] + eps[j];
      grad[j] += red.old * a + red.new * eps[j];
      acc![j] = red.finished ? eps[j] : a;
    }
    return;
  }
  const d = red.old + red.new;
  for (let j = 0; j < eps.length; j++) grad[j] += d * eps[j];
}

/** A synthetic truncation: random losses, a finish at `doneAt` followed by a reset step (mask 0). */
function synthetic(seed: number, steps: number, doneAt: number): UnrollResult {
  const pos = Float64Array.from(normal(foldIn(keyFromSeed(seed), 1), steps, 1), (x) => 2 + x);
  const neg = Float64Array.from(normal(foldIn(keyFromSeed(seed), 2), steps, 1), (x) => 2 + x);
  const done = new Uint8Array(steps);
  const mask = new Uint8Array(steps).fill(1);
  if (doneAt >= 0) {
    done[doneAt] = 1;
    if (doneAt + 1 < steps) { mask[doneAt + 1] = 0; pos[doneAt + 1] = 0; neg[doneAt + 1] = 0; }
  }
  return { pos, neg, done, mask, innerSteps: 2 * steps };
}

test('the registry lists pes, tes and fes, by name', () => {
  assert.deepEqual([...ESTIMATOR_KINDS], ['pes', 'tes', 'fes']);
  assert.equal(estimatorList(), 'pes, tes or fes');
  for (const kind of ESTIMATOR_KINDS) {
    assert.ok(isEstimatorKind(kind));
    assert.equal(getEstimator(kind).name, kind);
  }
  assert.equal(isEstimatorKind('es'), false);
  assert.equal(isEstimatorKind('toString'), false);
  assert.throws(() => getEstimator('es'), /unknown estimator/);
});

test('each estimator module contributes as the previous formulas did, bit for bit', () => {
  const size = 7;
  for (const kind of ESTIMATOR_KINDS) {
    const est = getEstimator(kind);
    const accNew = est.initSlotState(size);
    const accOld = kind === 'pes' ? new Float32Array(size) : null;
    assert.deepEqual(accNew, accOld);
    const gradNew = new Float64Array(size);
    const gradOld = new Float64Array(size);
    const gradCompat = new Float64Array(size);
    const accCompat = accOld ? new Float32Array(size) : null;
    // Several truncations: unfinished, finished mid-way, finished at the last step, all masked out.
    const cases: Array<[number, number]> = [[6, -1], [6, 2], [5, 4], [4, -1], [1, 0]];
    cases.forEach(([steps, doneAt], i) => {
      const r = synthetic(100 * i + kind.length, steps, doneAt);
      const eps = normal(foldIn(keyFromSeed(7), i), size, 0.1);
      const red = contribute(est, r, eps, accNew, gradNew);
      assert.deepEqual(red, reduceSlot(r));
      previousAccumulate(kind, reduceSlot(r), eps, accOld, gradOld);
      accumulateSlot(kind, reduceSlot(r), eps, accCompat, gradCompat);
    });
    assert.deepEqual([...gradNew], [...gradOld], kind);
    assert.deepEqual([...gradCompat], [...gradOld], kind);
    assert.deepEqual(accNew, accOld, kind);
    assert.deepEqual(accCompat, accOld, kind);
  }
});

test('estimators: unroll lengths, slot states and copy handling', () => {
  const o = { truncLength: 20, innerSteps: 300 };
  assert.equal(getEstimator('pes').unrollSteps(o), 20);
  assert.equal(getEstimator('tes').unrollSteps(o), 20);
  assert.equal(getEstimator('fes').unrollSteps(o), 300);
  assert.equal(getEstimator('fes').unrollSteps({ ...o, schedule: { kind: 'constant', length: 50 } }), 50);
  assert.equal(initialSlotStates(getEstimator('pes'), 3, 4).length, 3);
  assert.deepEqual(initialSlotStates(getEstimator('tes'), 3, 4), []);
  assert.deepEqual(initialSlotStates(getEstimator('fes'), 3, 4), []);

  const withCopies = () => ({ ...newSlotState(keyFromSeed(1)), pos: { p: [1] }, neg: { p: [2] } });
  // PES keeps both copies.
  const p = withCopies();
  getEstimator('pes').beforeUnroll(p); getEstimator('pes').prepareCopies(p); getEstimator('pes').afterUnroll(p);
  assert.deepEqual([p.pos, p.neg], [{ p: [1] }, { p: [2] }]);
  // TES forks the negative copy from the positive one and drops it afterwards.
  const t = { ...withCopies(), neg: null as unknown };
  getEstimator('tes').beforeUnroll(t);
  getEstimator('tes').prepareCopies(t);
  assert.deepEqual(t.neg, { p: [1] });
  assert.notEqual(t.neg, t.pos);
  getEstimator('tes').afterUnroll(t);
  assert.deepEqual([t.pos, t.neg], [{ p: [1] }, null]);
  // FES starts fresh runs and keeps nothing.
  const f = withCopies();
  getEstimator('fes').beforeUnroll(f);
  assert.deepEqual([f.pos, f.neg], [null, null]);
  assert.equal(getEstimator('fes').randomInitialStep, false);
  assert.equal(getEstimator('fes').stopAtDone, true);
  assert.equal(getEstimator('pes').stopAtDone || getEstimator('tes').stopAtDone, false);
});
