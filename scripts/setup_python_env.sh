#!/usr/bin/env bash
# Creates (once) and prints the path of a cached Python environment, outside the clone so that every clone on the
# machine reuses it:  setup_python_env.sh pyarrow|clients
#   pyarrow  pyarrow's wheel: the Arrow/Parquet C++ libraries and headers the build links (cmake/R2sArrow.cmake)
#   clients  the loaders the `clients` tests run against real2sim's output: LeRobot (LeRobotDataset, aggregate,
#            its video encoder for the benchmark) with PyTorch and PyAV, and lerobot 0.3.3 (the last release that
#            reads v2.1) as an overlay for the v2.1 tests; and, in <env>/overlay-loaders, robomimic 0.3.0's dataset
#            code (SequenceDataset, get_dataset_info.py) with h5py, for the robomimic tests (ACT's reading code is
#            a fixture, tests/fixtures/act/: it is no package); there too pytest for the Python package's tests
# The environment's folder is named by a hash of its requirements, so a changed pin makes a new one; it is built
# under a temporary name and renamed when complete, so an interrupted install is never taken for a finished one.
# Root: $R2S_CACHE_DIR, else ${XDG_CACHE_HOME:-$HOME/.cache}/real2sim.
set -euo pipefail

kind="${1:?usage: setup_python_env.sh pyarrow|clients}"
root="${R2S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/real2sim}"
# Debian's interpreter (python3-venv): the same on every Debian 12 machine, whatever python3 is first on PATH.
python="${R2S_VENV_PYTHON:-/usr/bin/python3}"

case "$kind" in
  pyarrow)
    requirements=("pyarrow==26.0.1")
    overlay=()
    loaders=()
    ;;
  clients)
    # lerobot 0.4.4 is the newest release for Python 3.11 (Debian 12's); it reads and aggregates v3.0.
    requirements=("lerobot==0.4.4" "torch==2.10.0" "torchvision==0.25.0" "av==15.1.0" "datasets==4.8.5" "pyarrow==26.0.1")
    # lerobot 0.3.3 reads v2.1; installed without its dependencies beside the above (only `datasets` differs in
    # what its dataset code imports) and put first on PYTHONPATH by the v2.1 tests.
    overlay=("lerobot==0.3.3" "datasets==3.6.0")
    # robomimic 0.3.0 (the newest on PyPI) and what its dataset and observation code import that the environment
    # above lacks (h5py) or has only as someone else's dependency (pinned here so that a changed lerobot cannot
    # change them). Without its dependencies: those pull tensorboard and egl_probe (an sdist that needs cmake and
    # EGL to build), which only its training and rendering code use. Kept out of the hash above, so adding it did
    # not rebuild the 8 GB environment: it has a folder of its own, rebuilt when this list changes.
    # pytest runs the Python package's tests (python/tests); scikit-build-core is the build backend the pip-install
    # test builds the package with (pyproject.toml), without pip fetching it at test time.
    loaders=("robomimic==0.3.0" "h5py==3.12.1" "termcolor==3.3.0" "psutil==7.2.2" "tqdm==4.70.1"
      "pytest==8.3.5" "pluggy==1.5.0" "iniconfig==2.0.0" "scikit-build-core==0.10.7" "pathspec==0.12.1")
    ;;
  *) echo "setup_python_env.sh: unknown environment '$kind' (pyarrow|clients)" >&2; exit 2 ;;
esac

hash=$(printf '%s\n' "$kind" "${requirements[@]}" "${overlay[@]}" "$("$python" -c 'import sys; print(sys.version)')" |
  sha256sum | cut -c1-12)
env_dir="$root/$kind-$hash"

# Installs `loaders` into $env_dir/overlay-loaders unless it holds exactly that list already (its .complete file
# records the list); built under a temporary name and renamed, like the environment.
install_loaders() {
  ((${#loaders[@]} > 0)) || return 0
  local dir="$env_dir/overlay-loaders" want
  want=$(printf '%s\n' "${loaders[@]}")
  if [[ -f "$dir/.complete" && "$(cat "$dir/.complete")" == "$want" ]]; then return 0; fi
  # One installer at a time (tests run in parallel call this script); the next finds it done.
  local lock
  exec {lock}>"$env_dir/.overlay-loaders.lock"
  flock "$lock"
  if [[ -f "$dir/.complete" && "$(cat "$dir/.complete")" == "$want" ]]; then return 0; fi
  local tmp_loaders="$env_dir/.overlay-loaders.tmp.$$"
  rm -rf "$tmp_loaders"
  echo "setup: installing ${loaders[*]} into $dir" >&2
  if ! "$env_dir/bin/python" -m pip install -q --disable-pip-version-check --no-deps --target "$tmp_loaders" \
    "${loaders[@]}" >&2; then
    rm -rf "$tmp_loaders"
    return 1
  fi
  printf '%s\n' "$want" >"$tmp_loaders/.complete"
  rm -rf "$dir"
  mv "$tmp_loaders" "$dir"
}

if [[ -f "$env_dir/.complete" ]]; then
  install_loaders
  echo "$env_dir"
  exit 0
fi

mkdir -p "$root"
tmp="$root/.$kind-$hash.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "setup: creating the $kind Python environment in $env_dir (once per machine)" >&2
"$python" -m venv "$tmp"
"$tmp/bin/python" -m pip install -q --disable-pip-version-check "${requirements[@]}" >&2
if ((${#overlay[@]} > 0)); then
  "$tmp/bin/python" -m pip install -q --disable-pip-version-check --no-deps --target "$tmp/overlay-v21" \
    "${overlay[@]}" >&2
fi
touch "$tmp/.complete"
# venv scripts carry their folder's path: build in place under the final name once installed.
rm -rf "$env_dir"
mv "$tmp" "$env_dir"
trap - EXIT
install_loaders
# The interpreter's shebangs name the temporary folder; a venv moved this way keeps working through bin/python.
echo "$env_dir"
