#!/usr/bin/env bash
# Installs the built tree into a temporary prefix, builds the consumer against it with find_package(real2sim),
# and runs it on the bundled Panda log. Usage: run_consumer_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build_dir="$1"
source_dir="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
# Headers go under include/r2s/ only: nothing at the top of include/ that other packages' episode/, sim/ or cuda/
# could collide with.
[[ -f "$work/prefix/include/r2s/episode/dataset_reader.h" ]] || { echo "include/r2s/episode/dataset_reader.h missing"; exit 1; }
for d in episode sim cuda render sysid amplify randomize real2sim; do
  [[ ! -e "$work/prefix/include/$d" ]] || { echo "include/$d installed at the top of include/"; exit 1; }
done
cmake -S "$source_dir/tests/package_consumer" -B "$work/build" -G Ninja -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >"$work/build.log" 2>&1 || { tail -20 "$work/build.log"; exit 1; }
output="$("$work/build/consumer" "$source_dir/scenes/panda_gaz2019/episode_0.hdf5" "$source_dir/scenes/panda_sysid")"
echo "$output"
# The first joint position of the real log, read independently with h5py.
expected="$(/usr/bin/python3 -c "import h5py,sys; print('%.6f' % h5py.File(sys.argv[1])['observations/qpos'][0,0])" \
  "$source_dir/scenes/panda_gaz2019/episode_0.hdf5")"
# One segmentation id per URDF link, counted independently, plus the scene's floor.
ids="$(( $(grep -c '<link ' "$source_dir/scenes/panda_sysid/robot/panda.urdf") + 1 ))"
[[ "$output" == "episodes=1 frames=20544 state0=${expected}"$'\n'"dofs=9 time=0.100 segmentation_ids=${ids}" ]] || { echo "expected state0=${expected} segmentation_ids=${ids}"; exit 1; }
