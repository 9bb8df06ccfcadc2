import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyFromSeed, foldIn } from '../../src/engine/random.js';
import { learnableLrSgd } from '../../src/learned/learnable-sgd.js';
import { buildTaskSource } from '../../src/meta/problem.js';
import { sampleLength } from '../../src/meta/truncation.js';
import { newSlotState, SlotRunner, type UnrollConfig } from '../../src/meta/unroll.js';

const theta = (lr: number) => ({ log_lr: { shape: [1], data: Float32Array.of(Math.log(lr)) } });

test('log-uniform run lengths stay in [min, max] with a log-uniform spread; constant is constant', () => {
  const lengths = Array.from({ length: 2000 }, (_, i) => sampleLength({ kind: 'log-uniform', min: 10, max: 1000 }, foldIn(keyFromSeed(1), i)));
  assert.ok(lengths.every((n) => Number.isInteger(n) && n >= 10 && n <= 1000));
  const below100 = lengths.filter((n) => n < 100).length / lengths.length;
  assert.ok(Math.abs(below100 - 0.5) < 0.05, `P(length < 100) = ${below100}`);
  assert.equal(sampleLength({ kind: 'constant', length: 7 }, keyFromSeed(3)), 7);
});

function runner(config: Partial<UnrollConfig>, seed = 0) {
  const lopt = learnableLrSgd();
  const source = buildTaskSource({ lopt: 'learnable_lr_sgd', family: 'quadratic-family-noise', taskOptions: { dim: 3 } });
  return new SlotRunner(newSlotState(foldIn(keyFromSeed(9), seed)), lopt, source, {
    estimator: 'pes', schedule: { kind: 'constant', length: 6 }, initialOffset: 0, metaLossAfterUpdate: false, ...config,
  });
}

test('both PES copies see the same task, init and batches; runs reset with done and mask as in LO', () => {
  const r = runner({});
  const out = r.unroll(theta(0.1), theta(0.1), 14);
  assert.deepEqual([...out.pos], [...out.neg]); // common random numbers: equal θ gives equal losses
  // LO: the run's last trained step (6th) counts and is done; the next step is a reset with mask 0, loss 0.
  assert.deepEqual([...out.done], [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.deepEqual([...out.mask], [1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0]);
  assert.equal(out.pos[6], 0);
  assert.equal(out.pos[13], 0);
  assert.equal(out.innerSteps, 24);
  assert.equal(r.state.run, 3);
  assert.equal(r.state.step, 0);
  // A truncation that ends on a run's last step leaves the reset to the next truncation.
  const t = runner({});
  const first = t.unroll(theta(0.1), theta(0.1), 6);
  assert.deepEqual([...first.done], [0, 0, 0, 0, 0, 1]);
  assert.equal(t.state.run, 1);
  const second = t.unroll(theta(0.1), theta(0.1), 3);
  assert.deepEqual([...second.mask], [0, 1, 1]);
  assert.equal(t.state.run, 2);
  assert.equal(t.state.step, 2);
  // Different θ: different losses after the first update, the same first loss (same init and batch).
  const s = runner({});
  const d = s.unroll(theta(0.1), theta(0.2), 3);
  assert.equal(d.pos[0], d.neg[0]);
  assert.notEqual(d.pos[2], d.neg[2]);
});

test('random initial steps are uniform in [0, offset) per slot; the loss after the update option uses a fresh batch', () => {
  const steps = Array.from({ length: 64 }, (_, i) => {
    const r = runner({ schedule: { kind: 'constant', length: 100 }, initialOffset: 100 }, i);
    r.unroll(theta(0.1), theta(0.1), 1);
    // LO moves only the run's step counter: the optimizer starts at its own iteration 0.
    assert.equal((r.state.pos as { iteration: number }).iteration, 1);
    assert.equal((r.state.neg as { iteration: number }).iteration, 1);
    return r.state.step - 1;
  });
  assert.ok(steps.every((s) => s >= 0 && s < 100));
  assert.ok(new Set(steps).size > 40, 'spread out');
  assert.ok(Math.abs(steps.reduce((a, b) => a + b, 0) / steps.length - 49.5) < 12);
  const before = runner({}).unroll(theta(0.1), theta(0.1), 4);
  const after = runner({ metaLossAfterUpdate: true }).unroll(theta(0.1), theta(0.1), 4);
  assert.notDeepEqual([...after.pos], [...before.pos]);
  assert.ok(after.pos[0] < before.pos[0] + 5, 'still a loss of the same task');
});
