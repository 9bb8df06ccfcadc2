#!/usr/bin/env node
// Ships a meta-trained θ as the package's pretrained weights: copies a run's θ file into
// pretrained/<optimizer>.safetensors with the manifest issue 8 asks for (optimizer, task, estimator
// settings, outer steps, meta-training inner steps, selection metric, date, command to reproduce).
// A lineage continued with --resume (the NAdamW campaign) names the θ files it grew from with
// --earlier, oldest first; a file that lists its own stages (an earlier shipped θ) contributes them.
// --options JSON sets options saved with the weights (a built-in step boost, say).
// Usage: node scripts/ship-weights.mjs --run DIR [--theta theta-best] --selection TEXT --reproduce CMD
//        [--earlier FILE]... [--options JSON] [--out FILE]
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { learned } from '../dist/src/index.js';

const { values } = parseArgs({
  options: {
    run: { type: 'string' }, theta: { type: 'string', default: 'theta-best' },
    selection: { type: 'string' }, reproduce: { type: 'string' }, out: { type: 'string' },
    earlier: { type: 'string', multiple: true, default: [] }, options: { type: 'string', default: '{}' },
  },
});
if (!values.run || !values.selection || !values.reproduce) {
  console.error('usage: node scripts/ship-weights.mjs --run DIR [--theta theta-best] --selection TEXT --reproduce CMD [--out FILE]');
  process.exit(2);
}
const source = join(values.run, values.theta);
const { optimizer, theta, provenance } = learned.load(source, { options: JSON.parse(values.options) });
// Inner steps the run had applied when this θ was made (each PES copy counted), from metrics.jsonl.
const rows = readFileSync(join(values.run, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
const upTo = provenance.outerSteps ?? Infinity;
const metaTrainingInnerSteps = rows.filter((r) => r.evalTask === undefined && r.outerStep < upTo).reduce((a, r) => a + (r.innerSteps ?? 0), 0);
// A run started with --init-weights continues an earlier stage: list every stage, oldest first, and
// count all their inner steps (each PES/TES outer step applies 2 copies × tasks × truncation steps).
function stagesOf(prov, ownInnerSteps) {
  const stage = { command: prov.command, outerSteps: prov.outerSteps, metaLr: prov.estimator?.metaLr, metaTrainingInnerSteps: ownInnerSteps };
  const init = /--init-weights (\S+)/.exec(prov.command ?? '')?.[1];
  if (!init || !existsSync(init)) return [stage];
  const earlier = learned.load(init).provenance;
  // An imitation stage (scripts/general-imitation.mjs) spends no meta-training inner steps; it started
  // from a shipped θ whose own stages come first.
  if (earlier.imitation) {
    const from = earlier.imitation.from;
    const before = from && existsSync(from) ? (learned.load(from).provenance.stages ?? []) : [];
    return [...before, { imitation: earlier.imitation, metaTrainingInnerSteps: 0 }, stage];
  }
  return [...stagesOf(earlier, innerStepsOf(earlier)), stage];
}
/** Inner steps of a PES/TES stage of `outerSteps` updates (2 copies × tasks × truncation × meta-batch). */
function innerStepsOf(prov) {
  const e = prov.estimator ?? {};
  return ['pes', 'tes'].includes(e.kind) ? prov.outerSteps * 2 * e.numTasks * e.truncLength * (e.metaBatch ?? 1) : NaN;
}
/** The stages of the --earlier files, oldest first. */
function earlierStages(files) {
  return files.flatMap((file) => {
    const prov = learned.load(file).provenance;
    if (Array.isArray(prov.stages)) return prov.stages;
    return [{ file, command: prov.command, outerSteps: prov.outerSteps, metaLr: prov.estimator?.metaLr, metaTrainingInnerSteps: innerStepsOf(prov) }];
  });
}
const own = { command: provenance.command, outerSteps: provenance.outerSteps, metaLr: provenance.estimator?.metaLr, metaTrainingInnerSteps };
const stages = values.earlier.length > 0 ? [...earlierStages(values.earlier), own] : stagesOf(provenance, metaTrainingInnerSteps);
const out = values.out ?? join('pretrained', `${optimizer.name}.safetensors`);
learned.save(out, optimizer, theta, {
  ...provenance,
  metaTrainingInnerSteps: stages.reduce((a, st) => a + st.metaTrainingInnerSteps, 0),
  stages,
  selection: values.selection,
  reproduce: values.reproduce,
  shippedFrom: `${values.run}/${values.theta}`,
  shippedAt: new Date().toISOString(),
});
console.log(`${out}: ${optimizer.name} from ${source} (${stages.map((st) => (st.imitation ? 'imitation' : `${st.outerSteps} outer steps at meta-lr ${st.metaLr}`)).join(' then ')}, ${stages.reduce((a, st) => a + st.metaTrainingInnerSteps, 0)} meta-training inner steps, evaluation loss ${provenance.evalLoss})`);
