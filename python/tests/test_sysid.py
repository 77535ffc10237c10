"""real2sim.identify on the bundled real data: the same fit as `r2s sysid`, as Python objects."""

import math

import numpy as np
import pytest

import real2sim
from conftest import CUBE_TOSSES, SOURCE_DIR, TABLETOP, r2s

PANDA_SCENE = SOURCE_DIR / "scenes" / "panda_sysid"
PANDA_LOG = SOURCE_DIR / "scenes" / "panda_gaz2019" / "episode_0.hdf5"  # a real Panda torque log (Gaz et al. 2019)


def test_panda_joint_dynamics_equal_the_command_line_fit(tmp_path):
    seen = []
    run = real2sim.identify(PANDA_SCENE, PANDA_LOG, problems=["joint_dynamics"], threads=2,
                            progress=lambda fraction, what: seen.append(fraction))
    assert seen and 0 <= min(seen) and max(seen) <= 1
    assert [r.problem for r in run.results] == ["joint_dynamics"]
    result = run.result("joint_dynamics")
    friction = result.parameter("robot.panda_joint1.coulomb_friction")
    assert friction.identified and friction.std_dev > 0 and math.isfinite(friction.estimate)
    assert result.covariance.shape == (len(result.covariance_names),) * 2
    np.testing.assert_allclose(result.covariance, result.covariance.T)
    for i, name in enumerate(result.covariance_names):  # the matrix reached Python intact
        assert result.covariance[i, i] == pytest.approx(result.parameter(name).std_dev ** 2, rel=1e-9), name
    # On held-out torque the fit beats the published model on every joint (docs/sysid.md).
    for channel in result.held_out:
        assert channel.rms < channel.baseline_rms or math.isnan(channel.baseline_rms), channel.channel

    ours = tmp_path / "python.yaml"
    run.write_params(ours)
    theirs = tmp_path / "cli.yaml"
    r2s("sysid", "--scene", str(PANDA_SCENE), "--episodes", str(PANDA_LOG), "--problem", "joint_dynamics",
        "--threads", "2", "--out", str(theirs))
    # The same file but for the fit's wall time (joint_dynamics.wall_s).
    strip = lambda text: [line for line in text.splitlines() if "wall_s" not in line]
    assert len(strip(ours.read_text())) == len(ours.read_text().splitlines()) - 1
    assert strip(ours.read_text()) == strip(theirs.read_text())


def test_data_that_support_no_requested_problem_say_what_is_missing():
    with pytest.raises(real2sim.InputError) as caught:
        real2sim.identify(TABLETOP, CUBE_TOSSES, problems=["actuators"])
    assert str(CUBE_TOSSES) in caught.value.file


def test_bad_options_name_the_field():
    with pytest.raises(real2sim.InputError) as caught:
        real2sim.identify(TABLETOP, CUBE_TOSSES, problems=["friction"])
    assert (caught.value.file, caught.value.field) == ("SysidOptions", "problems")
    with pytest.raises(ValueError, match="held_out_fraction"):
        real2sim.identify(TABLETOP, CUBE_TOSSES, problems=["objects"], held_out_fraction=1.5)
