#pragma once
// Per-episode statistics as LeRobot 0.4.4 computes them (lerobot/datasets/compute_stats.py), so that the figures
// real2sim writes next to synthetic episodes are of the same kind as those of the real episodes they are merged
// with:
//   vectors: per element over the episode's frames; count = frames;
//   images:  frames sampled with sample_indices, downsampled with auto_downsample_height_width, per colour
//            channel over the sampled pixels, scaled to [0, 1]; count = sampled frames (not pixels);
//   quantiles q01, q10, q50, q90, q99 from a 5000-bin histogram between min and max, interpolated inside the bin
//            (RunningQuantileStats), not numpy's exact quantiles.
// One deliberate difference: LeRobot 0.4.4 squares uint8 pixels in uint8 (batch**2 wraps modulo 256), so its
// image std is meaningless; we write the true population std, as LeRobot 0.3.3 (np.std) did for the real v2.1
// datasets these episodes are merged with.

#include <cstdint>
#include <vector>

#include "episode/array.h"
#include "episode/statistics.h"

namespace r2s::episode::lerobot {

// LeRobot's sample_indices(data_len): which frames of an episode image statistics look at.
std::vector<std::int64_t> SampleIndices(std::int64_t frames);

// `frames` is {T, ...} (vectors: T x FrameWidth channels) or, with `image`, uint8 {T, H, W, C}.
FeatureStatistics LeRobotStatistics(const Array& frames, bool image);

}  // namespace r2s::episode::lerobot
