#!/usr/bin/env bash
# Creates (once) and prints the path of a cached Python environment, outside the clone so that every clone on the
# machine reuses it:  setup_python_env.sh pyarrow|clients
#   pyarrow  pyarrow's wheel: the Arrow/Parquet C++ libraries and headers the build links (cmake/R2sArrow.cmake)
#   clients  the loaders the `clients` tests run against real2sim's output: LeRobot (LeRobotDataset, aggregate,
#            its video encoder for the benchmark) with PyTorch and PyAV, and lerobot 0.3.3 (the last release that
#            reads v2.1) as an overlay for the v2.1 tests
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
    ;;
  clients)
    # lerobot 0.4.4 is the newest release for Python 3.11 (Debian 12's); it reads and aggregates v3.0.
    requirements=("lerobot==0.4.4" "torch==2.10.0" "torchvision==0.25.0" "av==15.1.0" "datasets==4.8.5" "pyarrow==26.0.1")
    # lerobot 0.3.3 reads v2.1; installed without its dependencies beside the above (only `datasets` differs in
    # what its dataset code imports) and put first on PYTHONPATH by the v2.1 tests.
    overlay=("lerobot==0.3.3" "datasets==3.6.0")
    ;;
  *) echo "setup_python_env.sh: unknown environment '$kind' (pyarrow|clients)" >&2; exit 2 ;;
esac

hash=$(printf '%s\n' "$kind" "${requirements[@]}" "${overlay[@]}" "$("$python" -c 'import sys; print(sys.version)')" |
  sha256sum | cut -c1-12)
env_dir="$root/$kind-$hash"
if [[ -f "$env_dir/.complete" ]]; then
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
# The interpreter's shebangs name the temporary folder; a venv moved this way keeps working through bin/python.
echo "$env_dir"
