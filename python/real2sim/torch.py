"""PyTorch: generated episodes as an IterableDataset, so a DataLoader's workers generate in parallel.

    from torch.utils.data import DataLoader
    from real2sim.torch import SyntheticEpisodes

    data = SyntheticEpisodes("scenes/tabletop", "cube_tosses.hdf5", variants=8, unit="frame")
    for batch in DataLoader(data, batch_size=256, num_workers=2):
        loss = policy(batch["observation.state"], batch["action"])

Each DataLoader worker opens its own Generator and generates a contiguous part of the units (of the shard, when
shard_index/shard_count are given), so the workers never repeat a unit and every unit is a pure function of the
scene, the data, the options and its number: the same data in the same order for any number of threads, and per
worker for any number of workers.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional, Sequence

import torch
from torch.utils.data import IterableDataset, get_worker_info

from real2sim._core import Generator


class SyntheticEpisodes(IterableDataset):
    """Generated episodes (unit="episode": one dict of (T, ...) tensors per episode; use batch_size=None) or their
    frames (unit="frame": one dict per frame, which the default collate batches). Only those r2s generate would
    keep, unless keep="all". Each item also carries "unit" (and "frame" for frames). `features` limits the
    columns; the other keyword arguments are the Generator's (variants, seed, threads, cameras, ...)."""

    def __init__(self, scene, episodes, params=None, *, unit: str = "episode", keep: str = "success",
                 features: Optional[Sequence[str]] = None, threads: int = 1, **generator_options: Any):
        if unit not in ("episode", "frame"):
            raise ValueError(f"SyntheticEpisodes: unit must be 'episode' or 'frame', found {unit!r}")
        if keep not in ("success", "all"):
            raise ValueError(f"SyntheticEpisodes: keep must be 'success' or 'all', found {keep!r}")
        self._open = dict(scene=scene, episodes=episodes, params=params, threads=threads, **generator_options)
        self._unit = unit
        self._keep = keep
        self._features = None if features is None else set(features)
        # Opened once here so that a bad scene, dataset or option fails in the caller, not in a worker.
        generator = Generator(**self._open)
        self.output_info = generator.output_info
        self._begin, self._end = generator.shard_begin, generator.shard_end

    def _worker_units(self) -> tuple[int, int]:
        worker = get_worker_info()
        if worker is None:
            return self._begin, self._end
        n = self._end - self._begin
        return (self._begin + n * worker.id // worker.num_workers,
                self._begin + n * (worker.id + 1) // worker.num_workers)

    def __iter__(self) -> Iterator[dict]:
        begin, end = self._worker_units()
        generator = Generator(**self._open)
        with generator.episodes(begin, end) as stream:
            for generated in stream:
                if self._keep == "success" and not generated.success:
                    continue
                columns = {name: torch.from_numpy(array) for name, array in generated.episode.columns.items()
                           if self._features is None or name in self._features}
                if self._unit == "episode":
                    yield {**columns, "unit": generated.unit}
                    continue
                for frame in range(generated.episode.length):
                    yield {**{name: tensor[frame] for name, tensor in columns.items()},
                           "unit": generated.unit, "frame": frame}
