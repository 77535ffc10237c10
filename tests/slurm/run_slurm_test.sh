#!/usr/bin/env bash
# The Slurm example on a real Slurm: starts a private one-node cluster on 127.0.0.1 (munged, slurmctld, slurmd with
# their own config, key, state and ports in a temporary folder), submits the example as examples/README.md tells a
# user, cancels one array task while it runs, follows the README's recovery, and checks that the merged dataset
# equals an unsharded `r2s generate` run of the same inputs byte for byte. Every daemon and job it started is
# stopped on the way out, whatever happened.
# Usage: run_slurm_test.sh R2S SOURCE_DIR       (root; Debian's slurmctld, slurmd, slurm-client, munge)
# Exit status 77 (skipped) when not run as root: slurmd must start jobs as their user.
set -euo pipefail

r2s="$(realpath -- "$1")"
source_dir="$(realpath -- "$2")"
deadline_s="${R2S_SLURM_TEST_DEADLINE_S:-420}"  # below the ctest TIMEOUT, so the cleanup below always runs

if [[ $(id -u) -ne 0 ]]; then
  echo "slurm test: skipped: needs root (slurmd starts each job as its user; SlurmUser=root)" >&2
  exit 77
fi
for tool in munged mungekey slurmctld slurmd sbatch squeue scontrol scancel sinfo; do
  command -v "$tool" >/dev/null ||
    { echo "FAIL: slurm test: $tool is not installed: bash scripts/setup.sh installs Slurm and munge" >&2; exit 1; }
done

# Nothing of a surrounding Slurm (ctest run inside a job, a site's defaults) may reach this private cluster.
while read -r name; do unset "$name"; done < <(env | sed -nE 's/^((SLURM|SBATCH|SQUEUE|SINFO|SCONTROL)_[A-Za-z0-9_]*)=.*/\1/p')

work="$(mktemp -d /tmp/r2s-slurm-test.XXXXXX)"
# munged wants everyone to be able to reach its socket's folder.
chmod 755 "$work"
export SLURM_CONF="$work/slurm.conf"
daemon_pids=()
reference_pid=""
started=$SECONDS

# Stops what the test started, in order: its jobs (through its own slurmctld), the daemons, then any process of a
# job that outlived slurmd (slurmstepd detaches from it); those carry this cluster's SLURM_CONF in their environment.
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  if ((status != 0)); then
    echo "--- slurm test failed: logs from $work" >&2
    for log in "$work"/log/*.log "$work"/run/logs/*.out; do
      [[ -f "$log" ]] && { echo "--- $log" >&2; tail -n 40 "$log" >&2; }
    done
  fi
  if [[ -S "$work/munge/munge.socket" && -f "$SLURM_CONF" ]]; then
    timeout 10 scancel --user=root 2>/dev/null
    for _ in $(seq 50); do
      [[ -z "$(timeout 5 squeue -h 2>/dev/null)" ]] && break
      sleep 0.2
    done
  fi
  local pid
  [[ -z "$reference_pid" ]] || { kill "$reference_pid" 2>/dev/null; wait "$reference_pid" 2>/dev/null; }
  for pid in "${daemon_pids[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${daemon_pids[@]}"; do wait "$pid" 2>/dev/null; done
  for environ in /proc/[0-9]*/environ; do
    pid="${environ#/proc/}"
    pid="${pid%/environ}"
    [[ "$pid" != "$$" && "$pid" != "$BASHPID" ]] || continue
    if { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$SLURM_CONF"; then
      echo "slurm test: killing leftover process $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null))" >&2
      kill -9 "$pid" 2>/dev/null
    fi
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

fail() {
  echo "FAIL: slurm test: $*" >&2
  exit 1
}
# until_true WHAT SECONDS COMMAND...: polls COMMAND until it succeeds; fails naming WHAT after SECONDS, or at the
# test's deadline.
until_true() {
  local what="$1" seconds="$2"
  local limit=$((SECONDS + seconds))
  shift 2
  until "$@"; do
    ((SECONDS < limit)) || fail "waited $seconds s for $what"
    ((SECONDS - started < deadline_s)) || fail "past the test's deadline of $deadline_s s, waiting for $what"
    sleep 0.2
  done
}
job_field() {  # JOBID FIELD: the field of scontrol show job (the first task's, for an array)
  scontrol show job -o "$1" 2>/dev/null | head -n 1 | grep -oE "(^| )$2=[^ ]*" | cut -d= -f2
}
job_state_is() { [[ "$(job_field "$1" JobState)" == "$2" ]]; }
job_finished() { [[ -n "$(job_field "$1" JobState)" && -z "$(squeue -h -j "$1" 2>/dev/null)" ]]; }

# --- the inputs, small: shards of ~100 episodes (a few seconds each on one core), long enough to cancel one midway.
shards=3
variants=12
extra_args=(--max-episodes 25)
scene="$source_dir/scenes/tabletop"
episodes="$source_dir/scenes/tabletop/episodes/cube_tosses.hdf5"

# The reference: the same run unsharded, while the cluster starts.
"$r2s" generate --scene "$scene" --episodes "$episodes" --variants "$variants" --seed 0 "${extra_args[@]}" --quiet \
  --out "$work/reference" >"$work/reference.out" 2>&1 &
reference_pid=$!

# --- the cluster: munge with a fresh key and a private socket; Slurm on two free loopback ports.
mkdir -m 755 "$work/munge"
mkdir -m 700 "$work/munge-key"
mkdir -p "$work/log" "$work/state" "$work/spool"
mungekey --create --keyfile="$work/munge-key/munge.key"
munged --foreground --socket="$work/munge/munge.socket" --key-file="$work/munge-key/munge.key" \
  --pid-file="$work/munge/munged.pid" --seed-file="$work/munge-key/munged.seed" --log-file="$work/log/munged.log" \
  >"$work/log/munged.out" 2>&1 &
daemon_pids+=($!)
until_true "munged's socket" 20 test -S "$work/munge/munge.socket"

read -r ctld_port slurmd_port < <(/usr/bin/python3 -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))')
host="$(hostname -s)"
cpus="$(nproc)"
# NoInAddrAny binds the daemons to what the machine's host name resolves to, not to NodeAddr: only when that is a
# loopback address can they listen on it alone. Elsewhere (a container's /etc/hosts names its network address; a
# name that does not resolve at all) they listen on every interface, on ports nobody expects, and accept only
# messages signed with this test's munge key.
communication=""
if [[ "$(getent ahostsv4 "$(hostname)" | head -n 1 | cut -d' ' -f1)" == 127.* ]]; then
  communication="CommunicationParameters=NoInAddrAny,NoCtldInAddrAny"
fi
cat >"$SLURM_CONF" <<EOF
ClusterName=r2stest
# slurmctld runs only where its host name is SlurmctldHost; the address in parentheses is where it is reached.
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
$communication
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/munge.socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
MailProg=/bin/true
# No cgroups (none in a container, and nothing to enforce here): processes tracked by parentage, tasks unbound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
# Cores and memory are consumable, so several 1-CPU tasks share the node.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
# Finished jobs stay visible to scontrol for the test's checks.
MinJobAge=600
# The node is what this file says, whatever the hardware looks like.
SlurmdParameters=config_overrides
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=2000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
daemon_pids+=($!)
slurmd -D -f "$SLURM_CONF" -N "$host" >"$work/log/slurmd.out" 2>&1 &
daemon_pids+=($!)
node_idle() { [[ "$(sinfo -h -N -o %T 2>/dev/null)" == idle ]]; }
until_true "the node to be idle (sinfo)" 60 node_idle
echo "slurm test: cluster up after $((SECONDS - started)) s (ports $ctld_port, $slurmd_port; $cpus CPUs)" >&2

reference_status=0
wait "$reference_pid" || reference_status=$?
reference_pid=""
((reference_status == 0)) || { cat "$work/reference.out" >&2; fail "the unsharded reference run failed"; }

# --- as examples/README.md says: settings through the variables, submit.sh from the checkout. One task at a time
# (%1), so task 1 runs alone and can be caught midway.
cd "$source_dir"
export R2S_BIN="$r2s" R2S_OUT="$work/run" R2S_SHARDS="$shards" R2S_VARIANTS="$variants" R2S_SEED=0 \
  R2S_EXTRA_ARGS="${extra_args[*]}" R2S_CPUS=1 R2S_MEM=300M R2S_TIME=00:10:00 R2S_ARRAY_LIMIT=1 \
  R2S_MERGE_MEM=200M R2S_MERGE_TIME=00:05:00
submitted="$(bash examples/slurm/submit.sh)"
generate_job="$(sed -nE 's/^generate_job=([0-9]+)$/\1/p' <<<"$submitted")"
merge_job="$(sed -nE 's/^merge_job=([0-9]+)$/\1/p' <<<"$submitted")"
[[ -n "$generate_job" && -n "$merge_job" ]] || fail "submit.sh printed no job ids: $submitted"

# Cancel task 1 once it has finished some episodes but not all.
shard1="$work/run/shard-1-of-$shards"
task1_midway() {
  local finished
  [[ ! -f "$shard1/summary.json" ]] || fail "task 1 completed before it could be cancelled: make its shard larger"
  [[ -n "$(squeue -h -t RUNNING -j "${generate_job}_1" 2>/dev/null)" ]] || return 1
  finished="$(find "$shard1/parts" -name 'unit_*.json' 2>/dev/null | wc -l)"
  ((finished >= 5))
}
until_true "array task 1 to be running with 5 episodes done" 120 task1_midway
scancel "${generate_job}_1"
echo "slurm test: cancelled task ${generate_job}_1 after $((SECONDS - started)) s" >&2
[[ ! -f "$shard1/summary.json" ]] || fail "task 1 completed before it was cancelled: make its shard larger"

# The merge cannot run any more (afterok failed): submit.sh's --kill-on-invalid-dep has Slurm cancel it instead of
# leaving it pending forever.
until_true "the array to finish" 120 job_finished "$generate_job"
until_true "the merge to be cancelled (DependencyNeverSatisfied)" 60 job_state_is "$merge_job" CANCELLED
[[ ! -e "$work/run/merged" ]] || fail "the merge ran although task 1 was cancelled"

# --- the recovery of examples/README.md: rerun the incomplete shards; submit.sh submits a new merge after them.
submitted="$(R2S_TASKS=incomplete bash examples/slurm/submit.sh)"
rerun_job="$(sed -nE 's/^generate_job=([0-9]+)$/\1/p' <<<"$submitted")"
merge_job="$(sed -nE 's/^merge_job=([0-9]+)$/\1/p' <<<"$submitted")"
[[ -n "$rerun_job" && -n "$merge_job" ]] || fail "the rerun's submit.sh printed no job ids: $submitted"
rerun_tasks="$(job_field "$rerun_job" ArrayTaskId)"
rerun_tasks="${rerun_tasks%%%*}"  # a pending array shows its throttle: 1%1
[[ "$rerun_tasks" == 1 ]] || fail "the rerun is tasks '$rerun_tasks', expected the cancelled one, 1"
until_true "the rerun's merge to finish" 180 job_finished "$merge_job"
job_state_is "$merge_job" COMPLETED || fail "the merge ended $(job_field "$merge_job" JobState)"
echo "slurm test: merged after $((SECONDS - started)) s" >&2

# --- the merged run is the unsharded one: the same bytes, the same run identity and totals; shard 1 resumed.
cmp "$work/reference/cube_tosses.hdf5" "$work/run/merged/cube_tosses.hdf5" ||
  fail "merged cube_tosses.hdf5 differs from the unsharded run's"
/usr/bin/python3 - "$work/reference" "$work/run/merged" "$shard1" "$shards" <<'EOF' || fail "run.json/summary.json"
import json, sys

reference, merged, shard1, shards = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
load = lambda folder, name: json.load(open(f"{folder}/{name}"))
errors = []

run, merged_run = load(reference, "run.json"), load(merged, "run.json")
if merged_run.pop("merged_from", None) != shards:
    errors.append(f"merged run.json: merged_from is not {shards}")
if run != merged_run:
    errors.append(f"run.json differs: unsharded {run}, merged {merged_run}")

# Times differ from run to run; every count must not.
def counts(totals):
    return {k: v for k, v in totals.items() if not k.startswith("stage_")}
totals, merged_totals = counts(load(reference, "summary.json")["totals"]), counts(load(merged, "summary.json")["totals"])
if totals != merged_totals:
    errors.append(f"summary.json totals differ: unsharded {totals}, merged {merged_totals}")

resumed = load(shard1, "summary.json")["this_run"]["resumed_from"]
if not resumed > 0:
    errors.append(f"the rerun of shard 1 did not resume the cancelled task's episodes (resumed_from {resumed})")
for e in errors:
    print("FAIL:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
logs="$work/run/logs"
[[ -f "$logs/generate-${generate_job}_1.out" && -f "$logs/generate-${rerun_job}_1.out" && -f "$logs/merge-$merge_job.out" ]] ||
  fail "the task and merge logs are not in $logs: $(ls "$logs")"
echo "PASS: slurm example: cancelled task 1, reran it, merged = unsharded (${SECONDS} s)"
