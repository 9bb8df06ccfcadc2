#!/usr/bin/env node
// Picks the θ to ship among meta-training runs. Each run's own evaluation keys derive from its seed,
// so runs with different seeds are not compared on the same inner runs: this script re-evaluates
// every candidate (each run's theta-best) on one common set of meta-training evaluation keys — those
// of `--key-seed` (default 12), seeds 0 … N−1 — never the study's final-evaluation seeds 1000….
// A candidate may also be a θ file itself (a campaign's history/theta-NNNNNNN, say), so that one long
// run's θs can be compared on more evaluation runs than the run's own evaluation used.
// Prints a table and, last, one JSON line {best, candidates}.
// --options JSON evaluates every candidate with those options (a built-in step boost, say).
// Usage: node scripts/select-weights.mjs [--key-seed S] [--seeds N] [--theta theta-best] [--options JSON]
//        (RUN_DIR | THETA_FILE)...
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { learned, meta } from '../dist/src/index.js';
import { evaluationOptions } from './evaluation-options.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'key-seed': { type: 'string', default: '12' }, seeds: { type: 'string', default: '4' }, theta: { type: 'string', default: 'theta-best' }, options: { type: 'string', default: '{}' } },
});
const keySeed = Number(values['key-seed']);
const seeds = Number(values.seeds);
/** The θ file of a candidate: a run directory's `--theta` file, or the file given. */
const thetaFile = (path) => (existsSync(path) && statSync(path).isFile() ? path : join(path, values.theta));
const runs = positionals.filter((path) => existsSync(thetaFile(path)));
if (runs.length === 0 || !Number.isInteger(seeds) || seeds < 1) {
  console.error('usage: node scripts/select-weights.mjs [--key-seed S] [--seeds N] [--theta theta-best] (RUN_DIR | THETA_FILE)... (each a θ file or a run with one)');
  process.exit(2);
}
const candidates = runs.map((run) => {
  const file = thetaFile(run);
  const loaded = learned.load(file);
  const { theta, provenance } = loaded;
  const options = evaluationOptions(loaded, keySeed, seeds, provenance.estimator?.innerSteps ?? 2000, JSON.parse(values.options));
  const rows = meta.evaluateTheta(options, theta, { outerStep: provenance.outerSteps ?? 0, thetaVersion: 0 });
  const loss = rows.reduce((a, r) => a + r.evalLoss, 0) / rows.length;
  console.log(`${file}: mean loss ${loss.toFixed(4)} over ${seeds} runs (own evaluation: ${provenance.evalLoss?.toFixed?.(4) ?? '–'} at outer step ${provenance.outerSteps})`);
  return { run, file, loss, losses: rows.map((r) => r.evalLoss), outerSteps: provenance.outerSteps };
});
candidates.sort((a, b) => a.loss - b.loss);
console.log(JSON.stringify({ keySeed, seeds, best: candidates[0].run, candidates }));
