"""Paths the Python package's tests share: the source tree (R2S_SOURCE_DIR) and the r2s binary (R2S_BINARY), as
python/CMakeLists.txt passes them; the package itself comes from PYTHONPATH (tests/run_pytest.sh)."""

import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("R2S_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
TABLETOP = SOURCE_DIR / "scenes" / "tabletop"
CUBE_TOSSES = TABLETOP / "episodes" / "cube_tosses.hdf5"  # 100 real ContactNets tosses, robomimic layout
LEROBOT_TOSSES = TABLETOP / "lerobot_cube_tosses"         # the same tosses as a LeRobot v3.0 dataset


def r2s(*args: str) -> subprocess.CompletedProcess:
    """Runs the r2s command line; a failure shows its stderr."""
    binary = os.environ.get("R2S_BINARY")
    if not binary:
        pytest.skip("R2S_BINARY is not set (run through ctest)")
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    assert done.returncode == 0, f"r2s {' '.join(args)} exited {done.returncode}: {done.stderr}"
    return done
