#pragma once
// Quality findings on recorded data: what `r2s inspect` reports. Findings are facts about the data, not
// failures.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "episode/episode.h"
#include "episode/feature_spec.h"

namespace r2s::episode {

struct TimestampFindings {
  std::int64_t frames = 0;         // timestamps examined (all episodes)
  double median_period_s = 0;      // median of frame-to-frame differences, all episodes together
  std::int64_t non_monotonic = 0;  // differences <= 0
  std::int64_t first_non_monotonic_episode = -1, first_non_monotonic_frame = -1;
  std::int64_t gaps = 0;                                      // differences > 1.5 x median period
  double worst_gap_s = 0;                                     // largest difference
  std::int64_t worst_gap_episode = -1, worst_gap_frame = -1;  // frame index of the sample after the gap
  double measured_fps() const { return median_period_s > 0 ? 1.0 / median_period_s : 0; }
};

struct NonFiniteFinding {
  std::string feature;
  std::int64_t episode = 0;  // stored episode index
  std::int64_t frame = 0;    // first frame with NaN/Inf in that episode
  std::int64_t count = 0;    // NaN/Inf values in that episode's column
};

struct ConstantChannel {
  std::string feature;
  std::int64_t channel = 0;  // element index within the frame
  std::string name;          // element name when the spec has one ("q4"; per-axis names joined: "right.y")
  double value = 0;
};

// Lag of the observed state behind the commanded action, by cross-correlating their frame-to-frame
// differences (differencing removes the slow drift that makes position signals correlate at every lag).
struct LatencyEstimate {
  std::string action_feature;
  std::string state_feature;
  double lag_frames = 0;         // positive: the state follows the action; sub-frame by parabolic interpolation
  std::optional<double> lag_ms;  // lag_frames x the median frame period (timestamps, else 1 / fps); unknown if neither
  double peak_correlation = 0;   // normalized cross-correlation at the peak, in [-1, 1]
};

struct QaReport {
  std::optional<TimestampFindings> timestamps;  // when a "timestamp" feature exists
  std::vector<NonFiniteFinding> non_finite;
  std::vector<ConstantChannel> constant_channels;  // constant over the whole dataset
  // When "action" and a state feature of the same frame shape exist and both moved.
  std::optional<LatencyEstimate> latency;
};

// Accumulates findings episode by episode, so a large dataset is never held in memory.
class QaAccumulator {
 public:
  // fps: the declared rate, used for the latency in ms when there are no timestamps.
  QaAccumulator(Features features, std::optional<double> fps);
  void Add(const Episode& episode);
  QaReport Finish() const;

 private:
  void AddTimestamps(const Episode& episode);
  void AddNonFinite(const Episode& episode);
  void AddConstantChannels(const Episode& episode);
  void AddLatency(const Episode& episode);
  double MedianPeriod() const;

  Features features_;
  std::optional<double> fps_;
  // timestamps: the median and the gap count need every difference, known only at the end; the rest runs.
  bool has_timestamps_ = false;
  std::vector<double> periods_s_;  // finite frame-to-frame differences, all episodes
  TimestampFindings timestamps_;   // frames, non-monotonic and worst gap so far
  std::vector<NonFiniteFinding> non_finite_;
  // constant channels: per non-image feature, per channel the first value and whether any later one differed
  struct ChannelState {
    bool varies = false;
    double first = 0;
  };
  struct FeatureChannels {
    std::string feature;
    std::int64_t frames = 0;  // all episodes
    std::vector<ChannelState> channels;
  };
  std::vector<FeatureChannels> channels_;
  // latency: sums over lags -kMaxLagFrames..+kMaxLagFrames of action-difference x state-difference products,
  // pooled over channels and episodes, and the two signals' energies to normalize them
  std::string state_feature_;
  std::vector<double> xcorr_sum_;
  double action_energy_ = 0, state_energy_ = 0;
  std::int64_t longest_differences_ = 0;  // differences in the longest episode, which bounds the lags searched
};

// The state feature matched to "action" for the latency estimate: observation.state when its frame shape
// equals the action's, else empty.
std::string MatchingStateFeature(const Features& features);

}  // namespace r2s::episode
