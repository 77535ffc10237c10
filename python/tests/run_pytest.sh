#!/usr/bin/env bash
# Runs pytest on the given test files with the Python package from the build tree (R2S_PYTHON_PACKAGE, set by
# python/CMakeLists.txt) in the cached clients environment (PyTorch, NumPy, pyarrow; pytest and h5py in its
# overlay-loaders), made once per machine by scripts/setup_python_env.sh.
set -euo pipefail
: "${R2S_PYTHON_PACKAGE:?set by ctest to the python folder of the build tree}"
env_dir=$(bash "$(dirname "$0")/../../scripts/setup_python_env.sh" clients)
export PYTHONPATH="${R2S_PYTHON_PACKAGE}:${env_dir}/overlay-loaders${PYTHONPATH:+:$PYTHONPATH}"
exec "$env_dir/bin/python" -m pytest -q -p no:cacheprovider "$@"
