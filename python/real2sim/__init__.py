"""real2sim: synthetic robot episodes from real ones, from Python.

    import real2sim
    generator = real2sim.Generator("scenes/tabletop", "scenes/tabletop/episodes/cube_tosses.hdf5", variants=4)
    with generator.episodes() as stream:
        for g in stream:                       # in unit order, identical for any thread count
            if g.success:
                train_on(g.episode.columns)    # {feature: numpy array (T, ...)}, the source's schema

    dataset = real2sim.Dataset("my_lerobot_dataset")      # LeRobot, robomimic or ALOHA, one episode at a time
    run = real2sim.identify("scenes/panda_sysid", "panda_log.hdf5", problems=["joint_dynamics"])
    run.write_params("params.yaml")                        # for Generator(params="params.yaml")

real2sim.torch.SyntheticEpisodes feeds a PyTorch DataLoader. Bad input raises real2sim.InputError (a ValueError)
with .file, .field and .problem, as `r2s` prints them.
"""

from real2sim._core import (
    ChannelFit,
    Dataset,
    DatasetInfo,
    Episode,
    EpisodeStream,
    FeatureSpec,
    FitParameter,
    FitResult,
    GeneratedEpisode,
    Generator,
    InputError,
    OutputError,
    RenderError,
    SysidRun,
    __version__,
    identify,
)

__all__ = [
    "ChannelFit",
    "Dataset",
    "DatasetInfo",
    "Episode",
    "EpisodeStream",
    "FeatureSpec",
    "FitParameter",
    "FitResult",
    "GeneratedEpisode",
    "Generator",
    "InputError",
    "OutputError",
    "RenderError",
    "SysidRun",
    "__version__",
    "identify",
]
