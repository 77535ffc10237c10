"""real2sim.Dataset against an independent reader (pyarrow on the LeRobot tables), and its errors."""

import numpy as np
import pyarrow.parquet as pq
import pytest

import real2sim
from conftest import CUBE_TOSSES, LEROBOT_TOSSES


def test_lerobot_episode_equals_its_parquet_rows():
    dataset = real2sim.Dataset(LEROBOT_TOSSES)
    assert dataset.info.layout == "lerobot"
    table = pq.read_table(sorted((LEROBOT_TOSSES / "data").rglob("*.parquet"))[0]).to_pandas()
    compared = 0
    for episode in dataset:
        rows = table[table["episode_index"] == episode.index]
        if rows.empty:
            continue  # a later episode may live in a later file
        assert episode.length == len(rows)
        for name in table.columns:  # every column of the table; the video is checked against LeRobot elsewhere
            expected = np.stack(rows[name].to_numpy()).reshape(episode[name].shape)
            assert episode[name].dtype == expected.dtype, name
            np.testing.assert_array_equal(episode[name], expected, err_msg=name)
            compared += 1
        assert episode["observation.images.front"].shape == (episode.length, 480, 640, 3)
    assert compared >= 8


def test_columns_match_the_schema_and_outlive_the_episode():
    dataset = real2sim.Dataset(CUBE_TOSSES)
    assert dataset.info.layout == "robomimic"
    assert len(dataset) == 100
    episode = dataset[-1]
    assert episode.index == dataset[99].index
    for name, spec in dataset.info.features.items():
        column = episode.columns[name]
        assert column.dtype == np.dtype(spec.dtype), name
        assert column.shape == (episode.length, *spec.shape), name
    column = episode.columns[next(iter(episode.columns))]
    expected = column.copy()
    del episode
    np.testing.assert_array_equal(column, expected)  # the array owns the episode's memory (no copy was made)
    assert column.flags.owndata is False and column.base is not None


def test_read_selected_features_only():
    dataset = real2sim.Dataset(CUBE_TOSSES)
    assert len(dataset.info.features) > 1
    name = next(iter(dataset.info.features))
    episode = dataset.read(3, features={name})
    assert list(episode.columns) == [name]
    np.testing.assert_array_equal(episode[name], dataset[3][name])
    with pytest.raises(IndexError):
        dataset[100]


def test_bad_files_raise_input_error_naming_them(tmp_path):
    missing = tmp_path / "missing.hdf5"
    with pytest.raises(real2sim.InputError) as caught:
        real2sim.Dataset(missing)
    assert str(missing) in caught.value.file
    assert isinstance(caught.value, ValueError)
    garbage = tmp_path / "garbage.hdf5"
    garbage.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(real2sim.InputError) as caught:
        real2sim.Dataset(garbage)
    assert str(garbage) in caught.value.file and caught.value.problem


def test_threads_reading_one_dataset_get_what_one_thread_gets():
    from concurrent.futures import ThreadPoolExecutor

    for path in (CUBE_TOSSES, LEROBOT_TOSSES):
        dataset = real2sim.Dataset(path)
        positions = [i % len(dataset) for i in range(12)]
        alone = [dataset[i] for i in positions]
        with ThreadPoolExecutor(4) as pool:  # the GIL is released while reading: these reads overlap
            together = list(pool.map(lambda i: dataset[i], positions))
        for a, b in zip(alone, together):
            assert a.columns.keys() == b.columns.keys()
            for name in a.columns:
                np.testing.assert_array_equal(a[name], b[name], err_msg=f"{path}: {name}")
