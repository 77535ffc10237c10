"""real2sim.torch.SyntheticEpisodes feeds a PyTorch DataLoader: every kept unit once, frames batched."""

import torch
from torch.utils.data import DataLoader

import real2sim
from real2sim.torch import SyntheticEpisodes
from conftest import CUBE_TOSSES, TABLETOP

OPTIONS = dict(variants=3, max_source_episodes=6, seed=7)


def kept_episodes():
    generator = real2sim.Generator(TABLETOP, CUBE_TOSSES, **OPTIONS)
    return {g.unit: g.episode for g in generator.episodes() if g.success}


def test_two_workers_batch_the_frames_of_every_kept_unit_once():
    kept = kept_episodes()
    assert kept, "the tosses should keep some variants"
    data = SyntheticEpisodes(TABLETOP, CUBE_TOSSES, unit="frame", **OPTIONS)
    seen = {}
    for batch in DataLoader(data, batch_size=64, num_workers=2):
        pose = batch["observation.object_pose"]
        assert batch["unit"].dtype == torch.int64
        assert pose.shape == (batch["unit"].shape[0], 7)
        for row, (unit, frame) in enumerate(zip(batch["unit"].tolist(), batch["frame"].tolist())):
            seen.setdefault(unit, []).append(frame)
            expected = torch.from_numpy(kept[unit].columns["observation.object_pose"][frame])
            assert torch.equal(pose[row], expected), (unit, frame)
    assert sorted(seen) == sorted(kept)
    for unit, frames in seen.items():
        assert sorted(frames) == list(range(kept[unit].length)), unit


def test_whole_episodes_equal_the_generator_s():
    kept = kept_episodes()
    data = SyntheticEpisodes(TABLETOP, CUBE_TOSSES, unit="episode", **OPTIONS)
    items = list(DataLoader(data, batch_size=None, num_workers=0))
    assert [item["unit"] for item in items] == sorted(kept)
    for item in items:
        for name, array in kept[item["unit"]].columns.items():
            assert torch.equal(item[name], torch.from_numpy(array)), name
