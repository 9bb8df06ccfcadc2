#!/usr/bin/env bash
# The NAdamW campaign (README "The NAdamW campaign"): one continuous PES lineage of small_fc_lopt on
# fmnist-mlp at the paper's settings (§4.2, App. D), with LO's semantics for the random initial step,
# the end of a run, the NaN rule and the meta-optimizer's eps_root. It starts from the θ in
# campaign/nadamw/init/ (a 34,606-update probe run's θ at update 31,000) and plans a cosine meta-lr
# schedule over 65,000 outer updates (21M inner steps: with the probe's 11M, the paper's 32M).
#
# The same command starts it and resumes it: from checkpoint/state.v8 where this machine has it,
# otherwise from the committed checkpoint/compact.v8 (the slots then start fresh inner runs).
# usage: bash scripts/campaign.sh [MINUTES=170]     (env: WORKERS, default 1: one core, the other free;
#        CAMPAIGN_DIR, default campaign/nadamw/run; CAMPAIGN_INIT, the starting θ file, default the
#        committed probe θ: scripts/reproduce.sh runs the lineage elsewhere from its own probe)
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-170}
dir=${CAMPAIGN_DIR:-campaign/nadamw/run}
init=${CAMPAIGN_INIT:-campaign/nadamw/init/small_fc_lopt-fmnist-probe-31000.safetensors}
cli=(node "${LOPT_CLI:-dist/src/cli/main.js}")
args=(meta-train --lopt small_fc_lopt --task fmnist-mlp --estimator pes --trunc-length 20 --inner-steps 2000
  --num-tasks 8 --std 0.01 --meta-lr 5e-5 --meta-lr-schedule cosine --outer-steps 65000 --seed 12
  --eval-every 500 --eval-seeds 4 --checkpoint-every 200 --workers "${WORKERS:-1}" --backend native
  --max-minutes "$minutes" --out "$dir")
if [ -f "$dir/checkpoint/state.v8" ] || [ -f "$dir/checkpoint/compact.v8" ]; then
  exec "${cli[@]}" "${args[@]}" --resume
else
  exec "${cli[@]}" "${args[@]}" --init-weights "$init"
fi
