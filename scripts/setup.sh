#!/usr/bin/env bash
# Installs, from Debian packages, everything real2sim needs to build, test and benchmark.
# Idempotent: when every package is already present it changes nothing and returns in well under a second.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # episode/: HDF5 storage (libdeflate deflates its image chunks), Eigen, JSON, command line
  libhdf5-dev hdf5-tools libdeflate-dev libeigen3-dev nlohmann-json3-dev libcli11-dev
  # sim/: Bullet (its -float64 libraries; -extras for HACD), URDF, meshes, scene files
  libbullet-dev libbullet-extras-dev liburdfdom-dev libassimp-dev libyaml-cpp-dev
  # randomize/ and cuda/: Philox (Random123, header-only, host and CUDA), Sobol direction numbers (Boost.Random)
  librandom123-dev libboost-dev
  # sysid/: Ceres; the fit report's plots (Debian's matplotlib)
  libceres-dev python3-matplotlib
  # render/: headless Vulkan (Mesa's lavapipe on CPU), GLSL to SPIR-V, validation layer; stb_image for textures
  libvulkan-dev glslc mesa-vulkan-drivers vulkan-validationlayers libstb-dev
  # episode/video/ and episode/lerobot/: FFmpeg's libraries (dav1d decodes AV1, SVT-AV1 and x264 encode);
  # python3-venv makes the cached environment that holds the pyarrow wheel (Arrow/Parquet C++, see below)
  libavcodec-dev libavformat-dev libswscale-dev libavutil-dev python3-venv
  # python/: the Python package's C++ core (pybind11, Python's headers)
  pybind11-dev python3-dev
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # Debian's Python with h5py/numpy: tests write and read files with h5py, the benchmark runs it as a peer
  python3 python3-h5py python3-numpy
  # Slurm 22.05 and munge: the slurm test runs examples/slurm/ on a private one-node cluster it starts itself
  slurmctld slurmd slurm-client munge
)

missing=()
for p in "${packages[@]}"; do
  # dpkg-query is cheap; apt-get is slow even when it has nothing to do.
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Apache Arrow/Parquet C++: Debian 12 has no libarrow-dev, so the C++ libraries and headers come from the pyarrow
# wheel (PyPI), in a virtual environment cached outside the clone (cmake/R2sArrow.cmake finds it there). The wheel
# is built with the C++11 string ABI and needs GLIBCXX_3.4.22 at most, so it links with Debian's g++ 12.
bash "$(dirname "$0")/setup_python_env.sh" pyarrow >/dev/null
