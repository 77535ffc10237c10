"""real2sim.Generator streams what `r2s generate` writes, in the same order, for any thread count."""

import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import real2sim
from conftest import CUBE_TOSSES, TABLETOP, r2s

SOURCES = 6
VARIANTS = 3


def stream(threads, **options):
    generator = real2sim.Generator(TABLETOP, CUBE_TOSSES, variants=VARIANTS, max_source_episodes=SOURCES,
                                   threads=threads, seed=7, **options)
    with generator.episodes() as episodes:
        return list(episodes)


def assert_same_columns(a, b, what):
    assert a.columns.keys() == b.columns.keys(), what
    for name in a.columns:
        assert a.columns[name].dtype == b.columns[name].dtype, (what, name)
        np.testing.assert_array_equal(a.columns[name], b.columns[name], err_msg=f"{what}: {name}")


def test_streamed_episodes_equal_what_r2s_generate_writes(tmp_path):
    generated = stream(threads=2)
    assert [g.unit for g in generated] == list(range(SOURCES * VARIANTS))
    assert any(g.success for g in generated) and any(not g.success for g in generated), \
        "the tosses should keep some variants and reject others"
    for g in generated:
        assert g.success == (g.reason == ""), g
        assert g.episode.provenance["variant"] == g.variant

    out = tmp_path / "out"
    r2s("generate", "--scene", str(TABLETOP), "--episodes", str(CUBE_TOSSES), "--variants", str(VARIANTS),
        "--max-episodes", str(SOURCES), "--seed", "7", "--threads", "2", "--keep", "all", "--out", str(out))
    written = real2sim.Dataset(next(out.glob("*.hdf5")))
    assert len(written) == len(generated)
    for position, g in enumerate(generated):
        episode = written[position]
        assert episode.provenance["source_episode"] == g.episode.provenance["source_episode"]
        assert episode.provenance["variant"] == g.variant
        assert_same_columns(g.episode, episode, f"unit {g.unit}")


def test_one_thread_streams_the_same_episodes_as_two():
    one, two = stream(threads=1), stream(threads=2)
    assert [(g.unit, g.success, g.reason) for g in one] == [(g.unit, g.success, g.reason) for g in two]
    for a, b in zip(one, two):
        assert_same_columns(a.episode, b.episode, f"unit {a.unit}")


def test_a_unit_range_and_skips_give_those_units():
    generator = real2sim.Generator(TABLETOP, CUBE_TOSSES, variants=VARIANTS, max_source_episodes=SOURCES, seed=7)
    units = [g.unit for g in generator.episodes(4, 10, skip=[5, 8])]
    assert units == [4, 6, 7, 9]
    with pytest.raises(real2sim.InputError) as caught:
        generator.episodes(4, SOURCES * VARIANTS + 1)
    assert caught.value.field == "units"


def test_closing_a_stream_early_stops_the_generator():
    generator = real2sim.Generator(TABLETOP, CUBE_TOSSES, variants=50, threads=2)
    start = time.monotonic()
    with generator.episodes() as episodes:
        first = next(episodes)
    assert first.unit == 0
    assert time.monotonic() - start < 60, "closing should not wait for the 5,000 units"
    with pytest.raises(StopIteration):
        next(episodes)


@pytest.mark.parametrize("option, value", [("variants", 0), ("threads", -1), ("streams", ["rgb", "infrared"]),
                                           ("max_source_episodes", 0), ("device", "tpu")])
def test_a_bad_option_is_refused_naming_the_option_field(option, value):
    with pytest.raises(real2sim.InputError) as caught:
        real2sim.Generator(TABLETOP, CUBE_TOSSES, **{option: value})
    assert caught.value.file == "GeneratorOptions"
    assert caught.value.field == option
    assert "--" not in str(caught.value), "a library error should not speak in command-line flags"


@pytest.mark.parametrize("option, value", [("shadows", "maybe"), ("shadow_casters", "mesh"), ("shadow_map_px", 8)])
def test_a_bad_rendering_override_is_refused_naming_its_field(option, value):
    with pytest.raises(real2sim.InputError) as caught:
        real2sim.Generator(TABLETOP, CUBE_TOSSES, **{option: value})
    assert (caught.value.file, caught.value.field) == ("GeneratorOptions", "rendering." + option)
    assert "--" not in str(caught.value)


def test_a_bad_scene_is_refused_naming_the_file(tmp_path):
    scene = tmp_path / "scene.yaml"
    scene.write_text("name: broken\nrobot: {urdf: nowhere.urdf}\n")
    with pytest.raises(real2sim.InputError) as caught:
        real2sim.Generator(scene, CUBE_TOSSES)
    assert caught.value.file == str(scene)
    assert caught.value.field == "line 2: robot.urdf"
    assert "nowhere.urdf" in caught.value.problem


KILLED_RUN = """
import os, signal, sys
import real2sim
generator = real2sim.Generator(sys.argv[1], sys.argv[2], variants=3, max_source_episodes=6, seed=7, threads=2)
recorded = []
def on_episode(episode, kept):
    recorded.append(episode.unit)
    if len(recorded) == 5:
        os.kill(os.getpid(), signal.SIGKILL)  # as a preempted job is killed
generator.run(sys.argv[3], keep="all", on_episode=on_episode)
"""


def test_a_killed_run_resumes_to_the_bytes_of_an_uninterrupted_one(tmp_path):
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, str(TABLETOP), str(CUBE_TOSSES),
                             str(tmp_path / "killed")], capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "killed" / "summary.json").exists()

    generator = real2sim.Generator(TABLETOP, CUBE_TOSSES, variants=VARIANTS, max_source_episodes=SOURCES, seed=7)
    seen = []
    resumed = generator.run(tmp_path / "killed", keep="all", on_episode=lambda g, kept: seen.append(g.unit))
    assert resumed["resumed_units"] == 5 and resumed["attempted"] == SOURCES * VARIANTS - 5
    assert seen == list(range(5, SOURCES * VARIANTS))
    assert resumed["summary"]["totals"]["attempted"] == SOURCES * VARIANTS

    clean = generator.run(tmp_path / "clean", keep="all")
    assert clean["resumed_units"] == 0
    assert resumed["dataset"].read_bytes() == clean["dataset"].read_bytes()
    assert generator.run(tmp_path / "killed", keep="all")["was_complete"]
    with pytest.raises(real2sim.InputError) as caught:
        generator.run(tmp_path / "other", keep="some")
    assert (caught.value.file, caught.value.field) == ("RunOptions", "keep")
