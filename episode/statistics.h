#pragma once
// Per-feature statistics as LeRobot records them (min, max, mean, std, q01, q10, q50, q90, q99), per
// channel. These are exact; the LeRobot writer computes the figures it stores LeRobot's way instead (sampled
// image frames, histogram quantiles: episode/lerobot/lerobot_stats.h) and fills the same struct.
//
// A channel is one element of a frame for vectors and scalars ([7] -> 7 channels, [] -> 1), and one colour
// channel for images ([H, W, 3] -> 3 channels, over all pixels; count is pixels per channel). Image figures are
// scaled to [0, 1] (value / 255), as LeRobot records them. Within an episode the figures are exact
// (images through a 256-bin histogram); across episodes they are combined as LeRobot's aggregate_stats does:
// min/max of minima/maxima, count-weighted mean, pooled variance, and count-weighted mean of the quantiles.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "episode/episode.h"
#include "episode/feature_spec.h"

namespace r2s::episode {

struct FeatureStatistics {
  std::int64_t count = 0;                                            // values per channel that went in
  std::vector<double> min, max, mean, std, q01, q10, q50, q90, q99;  // one entry per channel
};

// Statistics of one episode's columns (features absent from the episode are skipped).
std::map<std::string, FeatureStatistics> ComputeEpisodeStatistics(const Episode& episode, const Features& features);

// Combines per-episode statistics of the same feature (LeRobot's aggregation, above).
FeatureStatistics AggregateStatistics(const std::vector<FeatureStatistics>& per_episode);

}  // namespace r2s::episode
