#include "episode/qa.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace r2s::episode {
namespace {

constexpr char kTimestamp[] = "timestamp";
constexpr char kAction[] = "action";
constexpr char kState[] = "observation.state";
// Latency beyond a few seconds at robot rates is no longer latency; the cap also bounds the work per frame.
constexpr std::int64_t kMaxLagFrames = 200;
// A frame-to-frame difference above this many median periods is a gap (a dropped frame gives 2).
constexpr double kGapFactor = 1.5;

bool IsTimestampSpec(const FeatureSpec& spec) {
  return IsFloating(spec.dtype) && (spec.shape.empty() || (spec.shape.size() == 1 && spec.shape[0] == 1));
}

// A numeric array's values as doubles, row-major.
std::vector<double> AsDoubles(const Array& array) {
  std::vector<double> out;
  VisitNumeric(array.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto values = array.values<T>();
    out.assign(values.begin(), values.end());
  });
  return out;
}

// np.median: the mean of the two middle values when the count is even.
double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  const auto mid = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  std::nth_element(values.begin(), mid, values.end());
  if (values.size() % 2 == 1) return *mid;
  return 0.5 * (*mid + *std::max_element(values.begin(), mid));
}

// Equal, with NaN equal to NaN, so an all-NaN channel counts as constant (its NaNs are reported anyway).
bool SameValue(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

// Frame-to-frame differences of one channel of a row-major [frames, channels] signal. Non-finite differences
// become 0: they are reported as non-finite values and must not poison the pooled sums.
void ChannelDifferences(const std::vector<double>& signal, std::int64_t frames, std::int64_t channels,
                        std::int64_t channel, std::vector<double>& out) {
  out.resize(static_cast<std::size_t>(frames - 1));
  for (std::int64_t t = 0; t + 1 < frames; ++t) {
    const double d = signal[(t + 1) * channels + channel] - signal[t * channels + channel];
    out[t] = std::isfinite(d) ? d : 0;
  }
}

double SumOfSquares(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x * x;
  return sum;
}

}  // namespace

std::string MatchingStateFeature(const Features& features) {
  const auto action = features.find(kAction);
  const auto state = features.find(kState);
  if (action == features.end() || state == features.end()) return "";
  const FeatureSpec& a = action->second;
  const FeatureSpec& s = state->second;
  if (a.shape != s.shape || a.IsImage() || s.IsImage() || !IsNumeric(a.dtype) || !IsNumeric(s.dtype)) return "";
  return kState;
}

QaAccumulator::QaAccumulator(Features features, std::optional<double> fps) : features_(std::move(features)), fps_(fps) {
  const auto timestamp = features_.find(kTimestamp);
  has_timestamps_ = timestamp != features_.end() && IsTimestampSpec(timestamp->second);
  for (const auto& [name, spec] : features_) {
    if (spec.IsImage() || !IsNumeric(spec.dtype)) continue;
    channels_.push_back({name, 0, std::vector<ChannelState>(static_cast<std::size_t>(spec.FrameSize()))});
  }
  state_feature_ = MatchingStateFeature(features_);
  if (!state_feature_.empty()) xcorr_sum_.assign(2 * kMaxLagFrames + 1, 0.0);
}

void QaAccumulator::Add(const Episode& episode) {
  AddTimestamps(episode);
  AddNonFinite(episode);
  AddConstantChannels(episode);
  AddLatency(episode);
}

void QaAccumulator::AddTimestamps(const Episode& episode) {
  const Column* column = has_timestamps_ ? episode.Find(kTimestamp) : nullptr;
  if (column == nullptr) return;
  const std::vector<double> ts = AsDoubles(column->data);
  timestamps_.frames += static_cast<std::int64_t>(ts.size());
  for (std::size_t i = 1; i < ts.size(); ++i) {
    const double d = ts[i] - ts[i - 1];
    if (!std::isfinite(d)) continue;  // a NaN timestamp is a non-finite finding, not a period
    periods_s_.push_back(d);
    const auto frame = static_cast<std::int64_t>(i);
    if (d <= 0 && timestamps_.non_monotonic++ == 0) {
      timestamps_.first_non_monotonic_episode = episode.metadata.index;
      timestamps_.first_non_monotonic_frame = frame;
    }
    if (timestamps_.worst_gap_episode < 0 || d > timestamps_.worst_gap_s) {
      timestamps_.worst_gap_s = d;
      timestamps_.worst_gap_episode = episode.metadata.index;
      timestamps_.worst_gap_frame = frame;
    }
  }
}

void QaAccumulator::AddNonFinite(const Episode& episode) {
  for (const auto& [name, spec] : features_) {
    const Column* column = episode.Find(name);
    if (column == nullptr) continue;
    const NonFiniteCount non_finite = CountNonFinite(column->data);
    if (non_finite.count > 0) {
      non_finite_.push_back({name, episode.metadata.index, non_finite.first_frame, non_finite.count});
    }
  }
}

void QaAccumulator::AddConstantChannels(const Episode& episode) {
  for (FeatureChannels& feature : channels_) {
    const Column* column = episode.Find(feature.feature);
    if (column == nullptr || column->num_frames() == 0) continue;
    const auto channels = static_cast<std::int64_t>(feature.channels.size());
    const std::int64_t frames = column->num_frames();
    if (!IsNumeric(column->data.dtype) || column->data.size() != frames * channels) continue;
    std::int64_t constant = 0;
    for (const ChannelState& c : feature.channels) constant += c.varies ? 0 : 1;
    if (constant == 0) {
      feature.frames += frames;
      continue;
    }
    VisitNumeric(column->data.dtype, [&](auto zero) {
      using T = decltype(zero);
      const T* values = column->data.values<T>().data();
      std::int64_t t = 0;
      if (feature.frames == 0) {
        for (std::int64_t c = 0; c < channels; ++c) feature.channels[c].first = static_cast<double>(values[c]);
        t = 1;
      }
      // Row by row, so the column is read in storage order; stops once every channel has varied.
      for (; t < frames && constant > 0; ++t) {
        const T* row = values + t * channels;
        for (std::int64_t c = 0; c < channels; ++c) {
          ChannelState& state = feature.channels[c];
          if (!state.varies && !SameValue(static_cast<double>(row[c]), state.first)) {
            state.varies = true;
            --constant;
          }
        }
      }
    });
    feature.frames += frames;
  }
}

void QaAccumulator::AddLatency(const Episode& episode) {
  if (state_feature_.empty()) return;
  const Column* action = episode.Find(kAction);
  const Column* state = episode.Find(state_feature_);
  if (action == nullptr || state == nullptr) return;
  const std::int64_t frames = std::min(action->num_frames(), state->num_frames());
  const std::int64_t channels = features_.at(kAction).FrameSize();
  if (frames < 3 || action->data.size() < frames * channels || state->data.size() < frames * channels) return;

  const std::vector<double> a = AsDoubles(action->data);
  const std::vector<double> s = AsDoubles(state->data);
  const std::int64_t n = frames - 1;  // differences
  const std::int64_t max_lag = std::min(kMaxLagFrames, n - 1);
  longest_differences_ = std::max(longest_differences_, n);
  std::vector<double> da, ds;
  for (std::int64_t c = 0; c < channels; ++c) {
    ChannelDifferences(a, frames, channels, c, da);
    ChannelDifferences(s, frames, channels, c, ds);
    action_energy_ += SumOfSquares(da);
    state_energy_ += SumOfSquares(ds);
    // Lag k pairs the action's step at t with the state's step at t + k: a state that follows the action by
    // k frames peaks at k > 0.
    for (std::int64_t k = -max_lag; k <= max_lag; ++k) {
      const std::int64_t begin = std::max<std::int64_t>(0, -k);
      const std::int64_t end = std::min(n, n - k);
      double sum = 0;
      for (std::int64_t t = begin; t < end; ++t) sum += da[t] * ds[t + k];
      xcorr_sum_[k + kMaxLagFrames] += sum;
    }
  }
}

double QaAccumulator::MedianPeriod() const { return Median(periods_s_); }

QaReport QaAccumulator::Finish() const {
  QaReport report;
  const double median_period_s = MedianPeriod();
  if (has_timestamps_) {
    TimestampFindings timestamps = timestamps_;
    timestamps.median_period_s = median_period_s;
    if (median_period_s > 0) {
      timestamps.gaps = std::count_if(periods_s_.begin(), periods_s_.end(),
                                      [&](double d) { return d > kGapFactor * median_period_s; });
    }
    report.timestamps = timestamps;
  }

  report.non_finite = non_finite_;

  for (const FeatureChannels& feature : channels_) {
    if (feature.frames < 2) continue;  // one frame is trivially constant
    const FeatureSpec& spec = features_.at(feature.feature);
    for (std::size_t c = 0; c < feature.channels.size(); ++c) {
      const ChannelState& state = feature.channels[c];
      if (state.varies) continue;
      const auto channel = static_cast<std::int64_t>(c);
      report.constant_channels.push_back({feature.feature, channel, spec.ElementName(channel), state.first});
    }
  }

  if (!state_feature_.empty() && action_energy_ > 0 && state_energy_ > 0) {
    const std::int64_t max_lag = std::min(kMaxLagFrames, longest_differences_ / 4);
    const double norm = std::sqrt(action_energy_ * state_energy_);
    auto correlation = [&](std::int64_t k) { return xcorr_sum_[k + kMaxLagFrames] / norm; };
    std::int64_t best = -max_lag;
    for (std::int64_t k = -max_lag; k <= max_lag; ++k) {
      if (correlation(k) > correlation(best)) best = k;
    }
    LatencyEstimate latency;
    latency.action_feature = kAction;
    latency.state_feature = state_feature_;
    latency.peak_correlation = correlation(best);
    latency.lag_frames = static_cast<double>(best);
    if (best > -max_lag && best < max_lag) {
      // Vertex of the parabola through the peak and its neighbours.
      const double left = correlation(best - 1), right = correlation(best + 1);
      const double curvature = left - 2 * latency.peak_correlation + right;
      if (curvature < 0) latency.lag_frames += std::clamp(0.5 * (left - right) / curvature, -0.5, 0.5);
    }
    double period_s = median_period_s;
    if (period_s <= 0 && fps_ && *fps_ > 0) period_s = 1.0 / *fps_;
    if (period_s > 0) latency.lag_ms = latency.lag_frames * period_s * 1000.0;
    report.latency = latency;
  }
  return report;
}

}  // namespace r2s::episode
