// Shared by the weights scripts: the meta-training options under which `meta.evaluateTheta` runs a
// loaded θ on the evaluation keys of `keySeed` (seeds 0 … seeds−1), for inner runs of `innerSteps`.
export function evaluationOptions({ optimizer, provenance }, keySeed, seeds, innerSteps) {
  return {
    problem: { lopt: optimizer.name, loptOptions: { ...optimizer.architecture }, task: provenance.task },
    seed: keySeed, evalSeeds: seeds, innerSteps,
  };
}
