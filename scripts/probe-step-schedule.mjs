#!/usr/bin/env node
// Probe: would a step-size schedule help a learned optimizer? Rescales every step of θ's optimizer by
// s(t) (p ← p_old + s(t)·(p_new − p_old)) and reports the mean 2,000-step training loss on a run's
// meta-training evaluation keys (`--key-seed`, seeds 0 … N−1; never the final-evaluation seeds).
// If a simple s(t) lowers the loss, the meta-training did not learn that time dependence.
// Schedules (t = step, T = --steps), multiplied when joined with '*':
//   const:S      s = S
//   cos:A:B      s = B + (A − B)·(1 + cos(πt/T))/2      (A at t = 0, B at t = T)
//   early:S:N    s = S for t < N, else 1
// Prints one line per schedule and, last, one JSON line {weights, keySeed, seeds, steps, results}.
// Usage: node scripts/probe-step-schedule.mjs --weights FILE [--key-seed 12] [--seeds 2] [--steps 2000] SCHEDULE...
import { parseArgs } from 'node:util';
import { learned, meta } from '../dist/src/index.js';
import { evaluationOptions } from './evaluation-options.mjs';

const usage = 'usage: node scripts/probe-step-schedule.mjs --weights FILE [--key-seed S] [--seeds N] [--steps T] SCHEDULE... (const:S, cos:A:B, early:S:N, joined by *)';
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { weights: { type: 'string' }, 'key-seed': { type: 'string', default: '12' }, seeds: { type: 'string', default: '2' }, steps: { type: 'string', default: '2000' } },
});
const [keySeed, seeds, steps] = [Number(values['key-seed']), Number(values.seeds), Number(values.steps)];
function fail(message) {
  console.error(`probe-step-schedule: ${message}\n${usage}`);
  process.exit(2);
}
if (!values.weights || positionals.length === 0) fail('give --weights and at least one schedule');
if (![keySeed, seeds, steps].every(Number.isInteger) || seeds < 1 || steps < 1) fail('--key-seed, --seeds and --steps must be integers (seeds, steps ≥ 1)');

function parsePart(part) {
  const [kind, ...args] = part.split(':');
  const nums = args.map(Number);
  if (nums.some((x) => !Number.isFinite(x))) fail(`schedule part "${part}" has a non-numeric argument`);
  if (kind === 'const' && nums.length === 1) return () => nums[0];
  if (kind === 'cos' && nums.length === 2) return (t) => nums[1] + (nums[0] - nums[1]) * 0.5 * (1 + Math.cos((Math.PI * t) / steps));
  if (kind === 'early' && nums.length === 2) return (t) => (t < nums[1] ? nums[0] : 1);
  fail(`unknown schedule part "${part}"`);
}
function parseSchedule(text) {
  const parts = text.split('*').map(parsePart);
  return (t) => parts.reduce((s, part) => s * part(t), 1);
}

/** The optimizer with every step scaled by scale(t), t counting this optimizer's updates. */
function withStepScale(optimizer, scale) {
  return {
    ...optimizer,
    init(params, opts) {
      return { inner: optimizer.init(params, opts), t: 0 };
    },
    update(state, grads, ctx) {
      const before = Object.entries(optimizer.getParams(state.inner)).map(([name, p]) => [name, p.data.slice()]);
      const inner = optimizer.update(state.inner, grads, ctx);
      const s = scale(state.t);
      const after = optimizer.getParams(inner);
      for (const [name, old] of before) {
        const p = after[name].data;
        for (let i = 0; i < p.length; i++) p[i] = old[i] + s * (p[i] - old[i]);
      }
      return { inner, t: state.t + 1 };
    },
    getParams: (state) => optimizer.getParams(state.inner),
  };
}

let loaded;
try {
  loaded = learned.load(values.weights);
} catch (error) {
  fail(error.message);
}
const options = evaluationOptions(loaded, keySeed, seeds, steps);
const results = positionals.map((schedule) => {
  const scale = parseSchedule(schedule);
  const rows = meta.evaluateTheta(options, loaded.theta, { outerStep: 0, thetaVersion: 0 }, (opt) => withStepScale(opt, scale));
  const losses = rows.map((r) => r.evalLoss);
  const loss = losses.reduce((a, b) => a + b, 0) / losses.length;
  console.log(`${schedule}: mean loss ${loss.toFixed(4)} (${losses.map((l) => l.toFixed(4)).join(', ')})`);
  return { schedule, loss, losses };
});
console.log(JSON.stringify({ weights: values.weights, keySeed, seeds, steps, results }));
