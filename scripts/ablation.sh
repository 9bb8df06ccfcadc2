#!/usr/bin/env bash
# The recipe ablation of issue 14 at equal budget (README "The recipe ablation"): every variant starts
# from the same θ (the campaign's initial θ), runs PES small_fc_lopt on fmnist-mlp for the same number
# of inner steps (BUDGET, default 320,000), and is then scored on the same meta-training evaluation keys
# by scripts/ablation-score.mjs. Variants run one after another on one core; an interrupted variant
# resumes from its checkpoint, a finished one (DIR/done) is skipped, so the same command continues.
#
#   old-recipe   the recipe before the fidelity fixes (commit a92c9d8, built by OLD_CLI's tree)
#   fixed        the fidelity fixes (LO's initial offset, end-of-run step, ±Inf rule, eps_root)
#   meta-batch-4 fixed, 4 estimates averaged per update (a quarter of the updates)
#   tasks-16     fixed, 16 task slots per estimate (half the updates)
#   cosine-lr    fixed, meta-lr cosine from 1e-4 to 0 over the budget (the same mean step size)
#   imitation    fixed, from the θ fitted to imitate NAdamW (campaign/ablation/imitation-init/)
#
# usage: bash scripts/ablation.sh [VARIANT ...]   (env: BUDGET, LOPT_CLI, OLD_CLI)
# The old recipe runs from a build of commit a92c9d8: git worktree add /tmp/recipe-old a92c9d8, then
# there: ln -s "$PWD/node_modules" node_modules && node scripts/build-native.mjs && npx tsc
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${BUDGET:-320000}
root=campaign/ablation
init=campaign/nadamw/init/small_fc_lopt-fmnist-probe-31000.safetensors
cli=${LOPT_CLI:-dist/src/cli/main.js}
old_cli=${OLD_CLI:-/tmp/recipe-old/dist/src/cli/main.js}
variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(fixed old-recipe cosine-lr meta-batch-4 tasks-16 imitation)

run_variant() {
  local name=$1 program=$cli tasks=8 batch=1 lr=5e-5 schedule=constant start=$init
  case $name in
    old-recipe) program=$old_cli ;;
    fixed) ;;
    meta-batch-4) batch=4 ;;
    tasks-16) tasks=16 ;;
    cosine-lr) lr=1e-4 schedule=cosine ;;
    imitation) start=$root/imitation-init/theta.safetensors
      [ -f "$start" ] || { echo "ablation: $start is missing: make it first with node scripts/imitation-init.mjs (README \"The recipe ablation\")" >&2; exit 1; } ;;
    *) echo "ablation: unknown variant '$name' (known: old-recipe fixed meta-batch-4 tasks-16 cosine-lr imitation)" >&2; exit 2 ;;
  esac
  local dir=$root/$name
  if [ -f "$dir/done" ]; then echo "ablation: $name already done"; return; fi
  # 20 inner steps per truncation, an antithetic pair per task slot: 40 inner steps per slot per estimate.
  local outer=$(( budget / (40 * tasks * batch) ))
  local args=(meta-train --lopt small_fc_lopt --task fmnist-mlp --estimator pes --trunc-length 20 --inner-steps 2000
    --num-tasks "$tasks" --meta-batch "$batch" --std 0.01 --meta-lr "$lr" --meta-lr-schedule "$schedule"
    --outer-steps "$outer" --seed 12 --eval-every 0 --checkpoint-every 50 --workers 1 --backend native --out "$dir")
  echo "ablation: $name: $outer outer updates of $(( 40 * tasks * batch )) inner steps from $start"
  if [ -f "$dir/checkpoint/state.v8" ] || [ -f "$dir/checkpoint/state.v7" ]; then
    node "$program" "${args[@]}" --resume
  else
    node "$program" "${args[@]}" --init-weights "$start"
  fi
  touch "$dir/done"
}

for v in "${variants[@]}"; do run_variant "$v"; done
