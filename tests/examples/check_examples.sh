#!/usr/bin/env bash
# Keeps examples/ from rotting: the Slurm scripts parse (bash -n) and take the shard count, resources and every
# setting from examples/slurm/r2s.env through submit.sh (default output outside the checkout), the Kubernetes
# manifests parse and are Indexed Jobs whose shard count agrees everywhere, and every r2s option the examples and
# examples/README.md use is one that `r2s generate --help` / `r2s merge --help` lists (with every REQUIRED one
# given).
# Usage: check_examples.sh R2S SOURCE_DIR
set -euo pipefail
r2s="$1"
examples="$2/examples"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# --- the options of each subcommand, from its --help. CLI11 prints "  --scene TEXT REQUIRED    description": the
# part before the first run of two spaces is the option, its type and REQUIRED when it is.
for sub in generate merge; do
  "$r2s" "$sub" --help >"$work/$sub.help"
  sed -nE 's/^ +(-[A-Za-z],)?(--[a-z][a-z0-9-]*)(.*)$/\2\3/p' "$work/$sub.help" | sed -E 's/  .*//' \
    >"$work/$sub.heads"
  cut -d' ' -f1 "$work/$sub.heads" | sort -u >"$work/$sub.options"
  { grep -E ' REQUIRED$' "$work/$sub.heads" || true; } | cut -d' ' -f1 | sort -u >"$work/$sub.required"
  # A --help that lists no --out is not the r2s these examples are for (or did not run).
  grep -qx -- --out "$work/$sub.options" || { echo "FAIL: '$r2s $sub --help' lists no --out" >&2; exit 1; }
done

# check_options FILE SUB OPTION...: each option is one of r2s SUB's, and with REQUIRE=1 every required one is there.
check_options() {
  local file="$1" sub="$2"
  shift 2
  local option
  for option in "$@"; do
    grep -qxF -- "$option" "$work/$sub.options" || fail "$file: r2s $sub has no option $option"
  done
  if [[ "${REQUIRE:-0}" == 1 ]]; then
    while read -r option; do
      [[ " $* " == *" $option "* ]] || fail "$file: r2s $sub needs $option, which it does not give"
    done <"$work/$sub.required"
  fi
}

# --- Slurm: each job script parses, runs one r2s subcommand, and every long option outside comments (whole-line and
# after " #") is that subcommand's (the scripts hold no other command with long options, so a renamed r2s option
# cannot hide in an array or a continuation line).
slurm="$examples/slurm"
for f in "$slurm"/*.sbatch; do
  name="examples/slurm/$(basename "$f")"
  bash -n "$f" || fail "$name: bash -n"
  code="$(grep -vE '^[[:space:]]*#' "$f" | sed -E 's/(^|[[:space:]])#.*$//')"
  # shellcheck disable=SC2016  # the literal text "$R2S_BIN" is what the scripts run r2s as
  sub="$(grep -oE '"\$R2S_BIN" (generate|merge)' <<<"$code" | head -n 1 | cut -d' ' -f2 || true)"
  [[ -n "$sub" ]] || { fail "$name: runs neither \"\$R2S_BIN\" generate nor merge"; continue; }
  mapfile -t used < <(grep -oE '(^|[[:space:](])--[a-z][a-z0-9-]*' <<<"$code" | grep -oE -- '--[a-z0-9-]+' | sort -u)
  REQUIRE=1 check_options "$name" "$sub" "${used[@]}"
  # The shard count and the resources are settings (r2s.env), given by submit.sh: a job script that fixes them
  # is the count-in-three-places (or the 16-CPU node) that breaks when one changes.
  { grep -nE '^#SBATCH[[:space:]]+--(array|cpus-per-task|mem|mem-per-cpu|partition|account|output)[= ]' "$f" || true; } |
    while read -r line; do echo "$name: $line: set by submit.sh from r2s.env, not here"; done >"$work/fixed"
  while read -r line; do fail "$line"; done <"$work/fixed"
  grep -qE -- '-of-[0-9]' <<<"$code" && fail "$name: a literal shard count (-of-N): use \$R2S_SHARDS"
  # Every setting the job reads is one submit.sh exports to it.
  for var in $(grep -oE 'R2S_[A-Z_]+' <<<"$code" | sort -u); do
    grep -qE "^export .*\\b$var\\b" "$slurm/submit.sh" || fail "$name: reads $var, which submit.sh does not export"
  done
done
bash -n "$slurm/submit.sh" || fail "examples/slurm/submit.sh: bash -n"
bash -n "$slurm/r2s.env" || fail "examples/slurm/r2s.env: bash -n"
# One place for every setting: each R2S_ variable submit.sh reads is set in r2s.env, R2S_SHARDS exactly once.
for var in $(grep -vE '^[[:space:]]*#' "$slurm/submit.sh" | grep -oE 'R2S_[A-Z_]+' | sort -u); do
  grep -qE "^: \"\\\$\\{$var:=" "$slurm/r2s.env" || fail "examples/slurm/submit.sh: reads $var, which r2s.env does not set"
done
[[ "$(grep -cE 'R2S_SHARDS:=[0-9]+' "$slurm/r2s.env")" == 1 ]] ||
  fail "examples/slurm/r2s.env: expected one ': \"\${R2S_SHARDS:=N}\"' line"
# The defaults: extra r2s options that r2s has, and an output folder outside the checkout.
default_of() {  # VAR: its value after sourcing r2s.env in an environment that holds only PATH and HOME
  # shellcheck disable=SC2016  # expanded by the inner bash
  env -i PATH="$PATH" HOME=/home/user bash -c 'set -eu; source "$1"; echo "${!2}"' _ "$slurm/r2s.env" "$1"
}
default_out="$(default_of R2S_OUT)" || fail "examples/slurm/r2s.env: does not source with only HOME set"
default_extra="$(default_of R2S_EXTRA_ARGS)" || true
[[ "$default_out" == /home/user/* ]] ||
  fail "examples/slurm/r2s.env: R2S_OUT defaults to '$default_out', not under \$SCRATCH or \$HOME"
read -ra words <<<"$default_extra"
mapfile -t used < <(printf '%s\n' "${words[@]}" | grep -E -- '^--[a-z]' | sort -u)
check_options "examples/slurm/r2s.env (R2S_EXTRA_ARGS)" generate "${used[@]}"

# --- Kubernetes: with Debian's python3-yaml, parse the manifests and check their structure; print the r2s
# subcommand and options each runs as "file sub option...". Without it, grep for what must be there.
generate_yaml="$examples/kubernetes/generate-indexed-job.yaml"
merge_yaml="$examples/kubernetes/merge-job.yaml"
if /usr/bin/python3 -c "import yaml" 2>/dev/null; then
  /usr/bin/python3 - "$generate_yaml" "$merge_yaml" >"$work/k8s.uses" <<'EOF' || fail "Kubernetes manifests (above)"
import re, sys, yaml

errors = []
def check(ok, message):
    if not ok:
        errors.append(message)

def job(path):
    try:
        docs = [d for d in yaml.safe_load_all(open(path)) if d is not None]
    except yaml.YAMLError as e:
        errors.append(f"{path}: not YAML: {e}")
        return None
    jobs = [d for d in docs if d.get("kind") == "Job"]
    check(len(jobs) == 1 and jobs[0].get("apiVersion") == "batch/v1", f"{path}: expected one batch/v1 Job")
    return jobs[0] if jobs else None

def r2s_invocation(path, container):
    # The words of the container's command and args; a shell script (bash -c) is split into words.
    words = []
    for item in (container.get("command") or []) + (container.get("args") or []):
        words += str(item).split() if isinstance(item, str) and ("\n" in item or " " in item) else [str(item)]
    for i, word in enumerate(words[:-1]):
        if word.rsplit("/", 1)[-1] == "r2s" and words[i + 1] in ("generate", "merge"):
            rest = []
            for w in words[i + 2:]:
                if w in ("|", ";", "&&", "||"):
                    break
                rest.append(w)
            return words[i + 1], rest
    errors.append(f"{path}: container {container.get('name')} runs neither r2s generate nor r2s merge")
    return None, []

def volume_claims(spec):
    return {v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes", []) if "persistentVolumeClaim" in v}

generate_path, merge_path = sys.argv[1], sys.argv[2]
generate, merge = job(generate_path), job(merge_path)
if generate and merge:
    spec = generate["spec"]
    pod = spec["template"]["spec"]
    check(spec.get("completionMode") == "Indexed", f"{generate_path}: spec.completionMode is not Indexed")
    completions = spec.get("completions")
    check(isinstance(completions, int) and completions > 0, f"{generate_path}: spec.completions is not a count")
    check(pod.get("restartPolicy") == "Never", f"{generate_path}: restartPolicy must be Never (backoffLimitPerIndex)")
    [container] = pod["containers"]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    check(env.get("R2S_SHARD_COUNT") == str(completions),
          f"{generate_path}: R2S_SHARD_COUNT is {env.get('R2S_SHARD_COUNT')!r}, completions {completions}")
    sub, args = r2s_invocation(generate_path, container)
    check(sub == "generate", f"{generate_path}: runs r2s {sub}, expected generate")
    check("--shard" not in args, f"{generate_path}: --shard overrides JOB_COMPLETION_INDEX")
    print(generate_path, sub, *args)
    out = args[args.index("--out") + 1] if "--out" in args[:-1] else None
    claims = volume_claims(pod)
    check(len(claims) == 1, f"{generate_path}: expected one persistentVolumeClaim volume")

    mpod = merge["spec"]["template"]["spec"]
    [mcontainer] = mpod["containers"]
    msub, margs = r2s_invocation(merge_path, mcontainer)
    check(msub == "merge", f"{merge_path}: runs r2s {msub}, expected merge")
    print(merge_path, msub, *margs)
    pattern = f"{out}/shard-*-of-{completions}"
    check(pattern in margs, f"{merge_path}: merges {margs}, expected the {pattern} of the generate Job")
    check(volume_claims(mpod) == claims, f"{merge_path}: mounts {volume_claims(mpod)}, the generate Job {claims}")
for e in errors:
    print("FAIL:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
else
  echo "check_examples: no python3-yaml: the manifests are grepped, not parsed" >&2
  for key in 'completionMode: Indexed' 'R2S_SHARD_COUNT' 'r2s' 'generate' 'persistentVolumeClaim'; do
    grep -qF -- "$key" "$generate_yaml" || fail "examples/kubernetes/generate-indexed-job.yaml: no '$key'"
  done
  for key in 'r2s merge' 'persistentVolumeClaim'; do
    grep -qF -- "$key" "$merge_yaml" || fail "examples/kubernetes/merge-job.yaml: no '$key'"
  done
  # The shard count agrees: completions, R2S_SHARD_COUNT's value on the line after its name, the merge's pattern.
  completions="$(sed -nE 's/^  completions: *([0-9]+).*/\1/p' "$generate_yaml")"
  count="$(grep -A1 -- '- name: R2S_SHARD_COUNT' "$generate_yaml" | sed -nE 's/.*value: *"([0-9]+)".*/\1/p')"
  pattern="$(grep -oE 'shard-\*-of-[0-9]+' "$merge_yaml" | head -n 1)"
  [[ -n "$completions" && "$count" == "$completions" && "$pattern" == "shard-*-of-$completions" ]] ||
    fail "examples/kubernetes: completions '$completions', R2S_SHARD_COUNT '$count' and the merge's '$pattern' disagree"
  : >"$work/k8s.uses"
  for f in "$generate_yaml" "$merge_yaml"; do
    sub=merge
    [[ "$f" == "$generate_yaml" ]] && sub=generate
    echo "$f $sub $(grep -vE '^[[:space:]]*#' "$f" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u | tr '\n' ' ')" \
      >>"$work/k8s.uses"
  done
fi
while read -r file sub args; do
  read -ra words <<<"$args"
  mapfile -t used < <(printf '%s\n' "${words[@]}" | grep -E -- '^--[a-z]' | sort -u)
  REQUIRE=1 check_options "examples/kubernetes/$(basename "$file")" "$sub" "${used[@]}"
done <"$work/k8s.uses"

# --- examples/README.md: every r2s generate/merge command it shows (continuation lines joined) uses real options.
readme="$examples/README.md"
if [[ -f "$readme" ]]; then
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$readme" | grep -oE 'r2s (generate|merge)( [^|;&`)]*)?' |
    while read -r _ sub rest; do
      mapfile -t used < <(grep -oE '(^|[[:space:]])--[a-z][a-z0-9-]*' <<<"$rest" | grep -oE -- '--[a-z0-9-]+' || true)
      for option in "${used[@]}"; do
        grep -qxF -- "$option" "$work/$sub.options" || echo "examples/README.md: r2s $sub has no option $option"
      done
    done >"$work/readme.fail"
  while read -r line; do fail "$line"; done <"$work/readme.fail"
else
  fail "examples/README.md is missing"
fi

if ((failures > 0)); then
  echo "$failures problem(s) in examples/" >&2
  exit 1
fi
echo "PASS: examples/ parse and use only options r2s has"
