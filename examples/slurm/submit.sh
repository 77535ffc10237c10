#!/usr/bin/env bash
# Submits one r2s generate run to Slurm: a job array with one task per shard (generate_array.sbatch) and the merge
# (merge.sbatch), which starts once every task of that array has succeeded. See examples/README.md.
#
#   bash examples/slurm/submit.sh [SETTINGS]     SETTINGS: default r2s.env beside this script
#
# Every setting (inputs, shard count, resources, partition, account, output folder) is a variable of SETTINGS
# that the environment overrides. Prints the two job ids on stdout:
#   generate_job=<id>
#   merge_job=<id>
# Rerun after a failed or cancelled task: R2S_TASKS=incomplete bash examples/slurm/submit.sh [SETTINGS]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
settings="${1:-$here/r2s.env}"
[[ -f "$settings" ]] || { echo "submit.sh: settings file $settings does not exist" >&2; exit 2; }
# shellcheck source=examples/slurm/r2s.env
source "$settings"

die() {
  echo "submit.sh: $* (settings: $settings, or the environment)" >&2
  exit 2
}
for name in R2S_SHARDS R2S_CPUS R2S_VARIANTS R2S_SEED; do
  [[ "${!name}" =~ ^[0-9]+$ ]] || die "$name=${!name} is not a whole number"
done
((R2S_SHARDS > 0)) || die "R2S_SHARDS=$R2S_SHARDS: need at least one shard"
((R2S_CPUS > 0)) || die "R2S_CPUS=$R2S_CPUS: need at least one CPU"
[[ -z "$R2S_ARRAY_LIMIT" || "$R2S_ARRAY_LIMIT" =~ ^[1-9][0-9]*$ ]] ||
  die "R2S_ARRAY_LIMIT=$R2S_ARRAY_LIMIT is not a positive whole number"

# The jobs start in whatever directory Slurm gives them, and r2s refuses to resume a shard whose recorded input
# paths differ: every path is made absolute here, once, and the inputs are checked before anything waits in a queue.
absolute_input() {  # NAME: the file or folder must exist
  local name="$1"
  [[ -e "${!name}" ]] || die "$name=${!name} does not exist (relative to $PWD)"
  printf -v "$name" '%s' "$(realpath -- "${!name}")"
}
absolute_input R2S_SCENE
absolute_input R2S_EPISODES
[[ -z "$R2S_PARAMS" ]] || absolute_input R2S_PARAMS
if [[ "$R2S_BIN" == */* ]]; then
  [[ -x "$R2S_BIN" ]] || die "R2S_BIN=$R2S_BIN is not an executable file"
  R2S_BIN="$(realpath -- "$R2S_BIN")"
else
  resolved="$(command -v -- "$R2S_BIN" || true)"
  [[ -n "$resolved" ]] || die "R2S_BIN=$R2S_BIN is not on PATH: set it to the installed binary, PREFIX/bin/r2s"
  R2S_BIN="$(realpath -- "$resolved")"
fi
R2S_OUT="$(realpath -m -- "$R2S_OUT")"
R2S_FINAL="$(realpath -m -- "$R2S_FINAL")"
R2S_LOGS="$(realpath -m -- "$R2S_LOGS")"
# Slurm does not create the folder of --output: a task whose log folder is missing fails without a word.
mkdir -p -- "$R2S_OUT" "$R2S_LOGS"

# Which array indexes (= shards) to run. "incomplete": those whose folder has no summary.json, which r2s writes last.
tasks="$R2S_TASKS"
if [[ -z "$tasks" ]]; then
  tasks="0-$((R2S_SHARDS - 1))"
elif [[ "$tasks" == incomplete ]]; then
  todo=()
  for ((i = 0; i < R2S_SHARDS; i++)); do
    [[ -f "$R2S_OUT/shard-$i-of-$R2S_SHARDS/summary.json" ]] || todo+=("$i")
  done
  if ((${#todo[@]} == 0)); then
    echo "submit.sh: every shard of $R2S_OUT/shard-*-of-$R2S_SHARDS is complete: submitting the merge only" >&2
  fi
  tasks="$(IFS=,; echo "${todo[*]}")"
fi

# The job scripts read their settings from the environment sbatch passes on (--export=ALL, stated because a
# site or user may set SBATCH_EXPORT=NONE).
export R2S_BIN R2S_SCENE R2S_EPISODES R2S_PARAMS R2S_VARIANTS R2S_SEED R2S_EXTRA_ARGS R2S_OUT R2S_FINAL R2S_SHARDS
common=(--parsable --export=ALL)
[[ -z "$R2S_PARTITION" ]] || common+=(--partition="$R2S_PARTITION")
[[ -z "$R2S_ACCOUNT" ]] || common+=(--account="$R2S_ACCOUNT")
read -ra sbatch_args <<<"$R2S_SBATCH_ARGS"
common+=(${sbatch_args[@]+"${sbatch_args[@]}"})

dependency=()
if [[ -n "$tasks" ]]; then
  gres=()
  [[ -z "$R2S_GRES" ]] || gres=(--gres="$R2S_GRES")
  # --parsable prints "jobid" or "jobid;cluster".
  generate_job="$(sbatch "${common[@]}" \
    --array="$tasks${R2S_ARRAY_LIMIT:+%$R2S_ARRAY_LIMIT}" \
    --cpus-per-task="$R2S_CPUS" --mem="$R2S_MEM" --time="$R2S_TIME" ${gres[@]+"${gres[@]}"} \
    --output="$R2S_LOGS/generate-%A_%a.out" \
    "$here/generate_array.sbatch")"
  generate_job="${generate_job%%;*}"
  echo "generate_job=$generate_job"
  echo "submit.sh: job $generate_job: shards $tasks of $R2S_SHARDS into $R2S_OUT, logs in $R2S_LOGS" >&2
  # A failed or cancelled task fails afterok for good: without --kill-on-invalid-dep the merge would stay pending
  # forever (DependencyNeverSatisfied); with it Slurm cancels the merge, and the rerun submits a new one.
  dependency=(--dependency=afterok:"$generate_job" --kill-on-invalid-dep=yes)
fi
merge_job="$(sbatch "${common[@]}" ${dependency[@]+"${dependency[@]}"} \
  --cpus-per-task=1 --mem="$R2S_MERGE_MEM" --time="$R2S_MERGE_TIME" \
  --output="$R2S_LOGS/merge-%j.out" \
  "$here/merge.sbatch")"
merge_job="${merge_job%%;*}"
echo "merge_job=$merge_job"
echo "submit.sh: job $merge_job: merges them into $R2S_FINAL once every task of the array has succeeded" >&2
