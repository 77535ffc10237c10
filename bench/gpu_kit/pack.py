#!/usr/bin/env python3
"""Packs what bench/run_gpu.sh needs on a bare GPU machine that has a driver, Python and nothing of Debian's: the
built binaries and every shared library they load, in one archive, with the MuJoCo peer's wheels, the GL/Vulkan
loader packages and the tabletop's fitted params.yaml.

  bench/gpu_kit/pack.py [--build-dir build/release] [--out build/gpu_kit] [--python-version 3.12]

The build must have CUDA (the `cuda` preset, or `release` where nvcc is found). Libraries reachable only through
FFmpeg's codecs and protocols, Arrow/Parquet and the sparse solvers are replaced by stand-ins (stand_in.py): the
GPU figures write HDF5 and fit nothing, and without them the kit is about 32 MB instead of 270. Then:

  KIT=build/gpu_kit bash bench/run_gpu.sh     # on the GPU machine, from the repository root
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BINARIES = ["cli/r2s", "bench/render_bench", "bench/sensor_bench", "tests/sensor_gpu_test",
            "tests/render_golden_test", "tests/render_batch_test", "tests/render_geometry_test",
            "tests/render_options_test"]
# The glibc family is on every machine; carrying it would break the host's own programs.
SYSTEM = re.compile(r"^(libc|libm|libstdc\+\+|libgcc_s|ld-linux-x86-64|libpthread|libdl|librt|libresolv|libutil)\.so")
STAND_IN = re.compile(
    r"^lib(arrow|parquet|aom|vpx|rav1e|x264|x265|codec2|rsvg-2|jxl|jxl_threads|openmpt|gme|zvbi|xvidcore|vorbis|"
    r"vorbisenc|theoraenc|theoradec|mp3lame|speex|twolame|shine|webp|webpmux|zmq|srt-gnutls|ssh-gcrypt|rabbitmq|"
    r"bluray|chromaprint|va|va-drm|va-x11|vdpau|OpenCL|mfx|icudata|openjp2|soxr|gsm|opus|snappy|rist|"
    r"gfortran|lapack|atlas|f77blas|cblas|blas|cholmod|spqr|cxsparse)\.so")
LOADER_PACKAGES = ["libvulkan1", "libegl1", "libglvnd0", "libopengl0", "libgl1", "libglx0", "libgles2"]


def needed(path):
    dynamic = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    return re.findall(r"NEEDED.*\[(.*)\]", dynamic)


def resolve(name, context):
    for line in subprocess.run(["ldd", context], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == name and len(parts) >= 3 and parts[2].startswith("/"):
            return parts[2]
    sys.exit(f"pack.py: {context} needs {name}, which ldd does not find here")


def collect_libraries(binaries, lib_dir):
    seen, stand_ins, queue = set(), [], [(n, b) for b in binaries for n in needed(b)]
    while queue:
        name, context = queue.pop()
        if name in seen or SYSTEM.match(name):
            continue
        seen.add(name)
        path = resolve(name, context)
        if STAND_IN.match(name):
            subprocess.run([sys.executable, os.path.join(HERE, "stand_in.py"), path, lib_dir], check=True,
                           capture_output=True)
            stand_ins.append(name)
            continue
        shutil.copy2(os.path.realpath(path), os.path.join(lib_dir, name))
        queue += [(n, path) for n in needed(path)]
    return len(seen) - len(stand_ins), stand_ins


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build/release"))
    parser.add_argument("--out", default=os.path.join(ROOT, "build/gpu_kit"))
    parser.add_argument("--python-version", default="3.12", help="the GPU machine's python3, for the wheels")
    args = parser.parse_args()
    cache = os.path.join(args.build_dir, "CMakeCache.txt")
    if "CMAKE_CUDA_COMPILER:" not in open(cache).read() or not os.path.exists(
            os.path.join(args.build_dir, "cuda/CMakeFiles/r2s_cuda.dir/sensor_cuda.cu.o")):
        sys.exit(f"pack.py: {args.build_dir} was built without CUDA; build the cuda preset first")
    binaries = [os.path.join(args.build_dir, b) for b in BINARIES]
    missing = [b for b in binaries if not os.path.exists(b)]
    if missing:
        sys.exit(f"pack.py: not built: {' '.join(missing)}")
    stage = os.path.join(args.out, "stage")
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(os.path.join(stage, "bin"))
    os.makedirs(os.path.join(stage, "lib"))
    for b in binaries:
        shutil.copy2(b, os.path.join(stage, "bin"))
    copied, stand_ins = collect_libraries(binaries, os.path.join(stage, "lib"))
    print(f"{copied} libraries copied, {len(stand_ins)} stand-ins: {' '.join(sorted(stand_ins))}")
    with open(os.path.join(stage, "source_dir.txt"), "w") as f:
        f.write(re.search(r"-DR2S_SOURCE_DIR=\\?\"([^\"\\]*)", subprocess.run(
            ["ninja", "-C", args.build_dir, "-t", "commands", "tests/sensor_gpu_test"], capture_output=True,
            text=True).stdout).group(1) + "\n")
    subprocess.run(f"tar -C {stage} -cf - . | xz -T0 -6 > {args.out}/kit.tar.xz", shell=True, check=True)
    shutil.rmtree(stage)

    wheels = os.path.join(args.out, "whl")
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", args.python_version, "--implementation", "cp",
                    "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_27_x86_64",
                    "--platform", "manylinux_2_17_x86_64", "-d", wheels, "mujoco==3.3.7", "pyopengl==3.1.10"],
                   check=True)
    debs = os.path.join(args.out, "debs")
    os.makedirs(debs)
    subprocess.run(["apt-get", "download", *LOADER_PACKAGES], cwd=debs, check=True, capture_output=True)

    params = os.path.join(args.out, "params.yaml")
    subprocess.run([os.path.join(args.build_dir, "cli/r2s"), "sysid", "--scene", "scenes/tabletop", "--episodes",
                    "scenes/tabletop/episodes/cube_tosses.hdf5", "--problem", "objects", "--out", params],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.out) for f in fs)
    print(f"kit: {args.out}, {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
