// Shared by the weights scripts: the meta-training options under which `meta.evaluateTheta` runs a
// loaded θ on the evaluation keys of `keySeed` (seeds 0 … seeds−1), for inner runs of `innerSteps`.
// The optimizer keeps every option the weights were saved with (a built-in warmup or step boost too),
// and `extraOptions` override them.
export function evaluationOptions({ optimizer, provenance }, keySeed, seeds, innerSteps, extraOptions = {}) {
  return {
    problem: { lopt: optimizer.name, loptOptions: { ...optimizer.options, ...extraOptions }, task: provenance.task },
    seed: keySeed, evalSeeds: seeds, innerSteps,
  };
}
