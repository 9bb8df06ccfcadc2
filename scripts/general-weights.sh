#!/usr/bin/env bash
# The general-purpose small_fc_lopt weights (README "General-purpose weights", issue 19), stage 2: PES
# meta-training on the paper-mix task family (a new draw of the paper's five tasks, at affordable sizes
# and varied widths and batch sizes, for every inner run of 600 steps), starting from stage 1's θ
# (scripts/general-imitation.mjs: small_fc_lopt fitted to the best hand-designed optimizer's steps on
# every variant), with a 50-update linear warmup of the step built into the optimizer (its option
# stepWarmup, saved with the weights: full early steps kill the autoencoder's bottleneck on some seeds,
# and the MLP cannot learn a warmup itself). The best θ is the one with the lowest mean normalised
# score on 16 evaluation runs, each variant's loss divided by its scale.
# The same command starts it and resumes it (checkpoint/state.v8, else the committed compact.v8).
# usage: bash scripts/general-weights.sh [MINUTES=60]     (env: WORKERS, default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
dir=campaign/general/run
cli=(node "${LOPT_CLI:-dist/src/cli/main.js}")
args=(meta-train --lopt small_fc_lopt --hparam stepWarmup=50 --family paper-mix --estimator pes --trunc-length 20 --inner-steps 600
  --num-tasks 8 --std 0.01 --meta-lr 1e-4 --outer-steps 20000 --seed 31
  --eval-every 100 --eval-seeds 16 --checkpoint-every 50 --workers "${WORKERS:-1}" --backend native
  --max-minutes "$minutes" --out "$dir")
if [ -f "$dir/checkpoint/state.v8" ] || [ -f "$dir/checkpoint/compact.v8" ]; then
  exec "${cli[@]}" "${args[@]}" --resume
else
  exec "${cli[@]}" "${args[@]}" --init-weights campaign/general/imitation/theta.safetensors
fi
