#!/usr/bin/env bash
# Installs the built tree into a temporary prefix, builds the example training harness (examples/harness) against
# it with find_package(real2sim), and streams episodes generated from the bundled cube tosses through it.
# Usage: run_harness_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build_dir="$1"
source_dir="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null

# Only the public API is installed, and it is whole: each installed header compiles on its own against the install
# (and the system's Eigen and Random123), so none includes a private one; the pipeline's internals are not there.
include_dir="$work/prefix/include/r2s"
[[ -f "$include_dir/amplify/generator.h" ]] || fail "amplify/generator.h is not installed"
for private in amplify/variant_pipeline.h amplify/run_folder.h render/renderer.h sim/scene_loader.h; do
  [[ ! -e "$include_dir/$private" ]] || fail "the private header $private is installed"
done
installed=0
while IFS= read -r header; do
  relative="${header#"$include_dir"/}"
  echo "#include \"$relative\"" | c++ -std=c++20 -fsyntax-only -I"$include_dir" -I/usr/include/eigen3 -x c++ - \
    2>"$work/header.log" || { head -5 "$work/header.log" >&2; fail "the installed $relative does not compile alone"; }
  installed=$((installed + 1))
done < <(find "$include_dir" -name '*.h' | sort)
echo "installed headers: $installed, each compiles alone"
cmake -S "$source_dir/examples/harness" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/configure.log" 2>&1 || { tail -20 "$work/configure.log"; exit 1; }
cmake --build "$work/build" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }

harness="$work/build/harness"
scene="$source_dir/scenes/tabletop"
dataset="$source_dir/scenes/tabletop/episodes/cube_tosses.hdf5"

# Runs the harness on 3 source episodes x 2 variants; stdout to $work/$1.out, stderr to $work/$1.err.
run() {
  local name="$1"
  shift
  local rc=0
  "$harness" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  echo "$rc"
}

rc="$(run first "$scene" "$dataset" 2 3)"
cat "$work/first.out"
[[ "$rc" == 0 ]] || { cat "$work/first.err" >&2; fail "the harness exited $rc"; }
final="$(tail -n 1 "$work/first.out")"
[[ "$final" =~ ^episodes=6\ successes=([0-9]+)\ frames=([0-9]+)$ ]] || fail "final line '$final' is not episodes=6 ..."
((BASH_REMATCH[1] <= 6 && BASH_REMATCH[2] > 0)) || fail "final line '$final': successes above 6 or no frames"
# Batches of 4: one full batch, then the other 2 episodes.
[[ "$(grep -c '^batch ' "$work/first.out")" == 2 ]] || fail "expected 2 batch lines"

# The same seed gives the same episodes: the same numbers, the batch statistics included.
rc="$(run second "$scene" "$dataset" 2 3)"
[[ "$rc" == 0 ]] || { cat "$work/second.err" >&2; fail "the second run exited $rc"; }
[[ "$(tail -n 1 "$work/second.out")" == "$final" ]] || fail "second run's final line: $(tail -n 1 "$work/second.out")"
if ! cmp -s "$work/first.out" "$work/second.out"; then
  diff "$work/first.out" "$work/second.out" >&2 || true
  fail "the two runs' output differs"
fi

# The stream is what r2s generate writes: its totals over every episode (--keep all) agree with the harness's.
"$work/prefix/bin/r2s" generate --scene "$scene" --episodes "$dataset" --variants 2 --max-episodes 3 --keep all \
  --threads 2 --quiet --out "$work/generated" >"$work/summary.json"
cli="$(/usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['totals']
print('episodes=%d successes=%d frames=%d' % (t['attempted'], t['succeeded'], t['frames']))" "$work/summary.json")"
[[ "$cli" == "$final" ]] || fail "r2s generate's totals '$cli' differ from the harness's '$final'"

# Bad input: exit 2, and the message names the file.
rc="$(run missing "$scene" "$work/no_such_dataset.hdf5" 2 3)"
[[ "$rc" == 2 ]] || { cat "$work/missing.err" >&2; fail "a missing dataset exited $rc, expected 2"; }
grep -q "no_such_dataset.hdf5" "$work/missing.err" || fail "stderr does not name the file: $(cat "$work/missing.err")"
echo "PASS"
