#include "episode/statistics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace r2s::episode {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::array<double, 5> kQuantiles = {0.01, 0.10, 0.50, 0.90, 0.99};  // LeRobot's q01 .. q99

// LeRobot scales image statistics to [0, 1], the range its policies see pixels in.
constexpr double kImageScale = 1.0 / 255.0;

FeatureStatistics EmptyStatistics(std::int64_t channels) {
  FeatureStatistics s;
  for (auto* v : {&s.min, &s.max, &s.mean, &s.std, &s.q01, &s.q10, &s.q50, &s.q90, &s.q99}) v->assign(channels, kNaN);
  return s;
}

void SetChannel(FeatureStatistics& s, std::size_t c, double min, double max, double mean, double std,
                const std::array<double, 5>& q) {
  s.min[c] = min;
  s.max[c] = max;
  s.mean[c] = mean;
  s.std[c] = std;
  s.q01[c] = q[0];
  s.q10[c] = q[1];
  s.q50[c] = q[2];
  s.q90[c] = q[3];
  s.q99[c] = q[4];
}

// ---- Non-image columns: exact, per channel, from a copy of the channel. ----

// np.quantile(method='linear') for each of kQuantiles. Reorders `values`; each selection works on the part
// left of the previous one's order statistic, because the quantiles ascend.
std::array<double, 5> LinearQuantiles(std::vector<double>& values) {
  std::array<double, 5> result{};
  const std::size_t n = values.size();
  auto begin = values.begin();
  for (std::size_t i = 0; i < kQuantiles.size(); ++i) {
    const double h = static_cast<double>(n - 1) * kQuantiles[i];
    const std::size_t lo = static_cast<std::size_t>(std::floor(h));
    const double frac = h - static_cast<double>(lo);
    auto nth = values.begin() + static_cast<std::ptrdiff_t>(lo);
    std::nth_element(begin, nth, values.end());
    begin = nth;
    const double below = *nth;
    double above = below;
    if (frac > 0 && lo + 1 < n) above = *std::min_element(nth + 1, values.end());
    // numpy's lerp form, exact at both ends.
    result[i] = frac > 0 ? below + frac * (above - below) : below;
  }
  return result;
}

// Min, max, mean, population std and quantiles of one channel; all NaN when the channel holds a NaN, as numpy
// gives (and quantile selection needs a strict ordering NaN would break).
void ChannelStatistics(std::vector<double>& values, std::size_t c, FeatureStatistics& s) {
  double min = values.front(), max = values.front(), sum = 0;
  bool has_nan = false;
  for (double v : values) {
    has_nan |= std::isnan(v);
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v;
  }
  if (has_nan) return;  // left NaN by EmptyStatistics
  const double n = static_cast<double>(values.size());
  const double mean = sum / n;
  // Second pass on deviations: E[x^2] - mean^2 would cancel badly for offset signals (timestamps, positions).
  double squares = 0;
  for (double v : values) squares += (v - mean) * (v - mean);
  SetChannel(s, c, min, max, mean, std::sqrt(squares / n), LinearQuantiles(values));
}

// Channels are gathered in blocks so that each frame's row is read contiguously, even for wide frames.
template <class T>
void VectorStatistics(std::span<const T> data, std::int64_t frames, std::int64_t channels, FeatureStatistics& s) {
  constexpr std::int64_t kBlock = 64;
  std::vector<std::vector<double>> block(static_cast<std::size_t>(std::min(kBlock, channels)),
                                         std::vector<double>(static_cast<std::size_t>(frames)));
  for (std::int64_t c0 = 0; c0 < channels; c0 += kBlock) {
    const std::int64_t width = std::min(kBlock, channels - c0);
    for (std::int64_t t = 0; t < frames; ++t) {
      const T* row = data.data() + t * channels + c0;
      for (std::int64_t c = 0; c < width; ++c) block[c][t] = static_cast<double>(row[c]);
    }
    for (std::int64_t c = 0; c < width; ++c) ChannelStatistics(block[c], static_cast<std::size_t>(c0 + c), s);
  }
}

// ---- Images: exact through one 256-bin histogram per colour channel. ----

using Histogram = std::array<std::uint64_t, 256>;

// Two interleaved sets of histograms, so that consecutive equal pixels do not serialize on one counter.
template <int kChannels>
std::vector<Histogram> PixelHistograms(std::span<const std::uint8_t> pixels) {
  std::vector<Histogram> lanes(2 * kChannels, Histogram{});
  const std::size_t count = pixels.size() / kChannels;
  const std::uint8_t* p = pixels.data();
  std::size_t i = 0;
  for (; i + 1 < count; i += 2, p += 2 * kChannels) {
    for (int c = 0; c < kChannels; ++c) {
      ++lanes[c][p[c]];
      ++lanes[kChannels + c][p[kChannels + c]];
    }
  }
  if (i < count) {
    for (int c = 0; c < kChannels; ++c) ++lanes[c][p[c]];
  }
  std::vector<Histogram> merged(kChannels);
  for (int c = 0; c < kChannels; ++c) {
    for (int b = 0; b < 256; ++b) merged[c][b] = lanes[c][b] + lanes[kChannels + c][b];
  }
  return merged;
}

std::vector<Histogram> PixelHistograms(std::span<const std::uint8_t> pixels, std::int64_t channels) {
  switch (channels) {
    case 1:
      return PixelHistograms<1>(pixels);
    case 3:
      return PixelHistograms<3>(pixels);
    case 4:
      return PixelHistograms<4>(pixels);
    default:
      throw std::invalid_argument("image statistics: " + std::to_string(channels) + " channels");
  }
}

// The k-th smallest value (0-based) in a histogram.
double OrderStatistic(const Histogram& h, std::uint64_t k) {
  std::uint64_t seen = 0;
  for (int b = 0; b < 256; ++b) {
    seen += h[b];
    if (seen > k) return b;
  }
  return 255;
}

void HistogramStatistics(const Histogram& h, std::uint64_t n, std::size_t c, FeatureStatistics& s) {
  int lo = 0, hi = 255;
  while (h[lo] == 0) ++lo;
  while (h[hi] == 0) --hi;
  double sum = 0;
  for (int b = lo; b <= hi; ++b) sum += static_cast<double>(h[b]) * b;
  const double mean = sum / static_cast<double>(n);
  double squares = 0;
  for (int b = lo; b <= hi; ++b) squares += static_cast<double>(h[b]) * (b - mean) * (b - mean);
  std::array<double, 5> q{};
  for (std::size_t i = 0; i < kQuantiles.size(); ++i) {
    const double pos = static_cast<double>(n - 1) * kQuantiles[i];
    const auto k = static_cast<std::uint64_t>(std::floor(pos));
    const double frac = pos - static_cast<double>(k);
    const double below = OrderStatistic(h, k);
    const double above = frac > 0 ? OrderStatistic(h, k + 1) : below;
    q[i] = (below + frac * (above - below)) * kImageScale;
  }
  SetChannel(s, c, lo * kImageScale, hi * kImageScale, mean * kImageScale,
             std::sqrt(squares / static_cast<double>(n)) * kImageScale, q);
}

FeatureStatistics ColumnStatistics(const std::string& name, const Column& column, const FeatureSpec& spec) {
  const std::int64_t frames = column.num_frames();
  const std::int64_t frame_size = spec.FrameSize();
  if (!IsNumeric(column.data.dtype) || column.data.size() != frames * frame_size) {
    throw std::invalid_argument("statistics: feature '" + name + "' holds " +
                                std::string(DTypeName(column.data.dtype)) + " " + ShapeToString(column.data.shape) +
                                ", not " + std::to_string(frames) + " frames of " + ShapeToString(spec.shape));
  }
  const bool image = spec.IsImage() && column.data.dtype == DType::kUInt8;
  const std::int64_t channels = image ? spec.shape[2] : frame_size;
  FeatureStatistics s = EmptyStatistics(channels);
  s.count = image ? frames * spec.shape[0] * spec.shape[1] : frames;
  if (s.count == 0) return s;

  if (image) {
    const auto histograms = PixelHistograms(column.data.values<std::uint8_t>(), channels);
    for (std::int64_t c = 0; c < channels; ++c) {
      HistogramStatistics(histograms[c], static_cast<std::uint64_t>(s.count), static_cast<std::size_t>(c), s);
    }
    return s;
  }
  VisitNumeric(column.data.dtype, [&](auto zero) {
    using T = decltype(zero);
    VectorStatistics<T>(column.data.values<T>(), frames, channels, s);
  });
  return s;
}

// np.min / np.max semantics: a NaN anywhere wins.
double NanMin(double a, double b) { return std::isnan(a) || std::isnan(b) ? kNaN : std::min(a, b); }
double NanMax(double a, double b) { return std::isnan(a) || std::isnan(b) ? kNaN : std::max(a, b); }

}  // namespace

std::map<std::string, FeatureStatistics> ComputeEpisodeStatistics(const Episode& episode, const Features& features) {
  std::map<std::string, FeatureStatistics> result;
  for (const auto& [name, spec] : features) {
    if (const Column* column = episode.Find(name)) result.emplace(name, ColumnStatistics(name, *column, spec));
  }
  return result;
}

FeatureStatistics AggregateStatistics(const std::vector<FeatureStatistics>& per_episode) {
  // Empty episodes carry no values (and NaN figures); they must not poison the others.
  std::vector<const FeatureStatistics*> parts;
  for (const auto& s : per_episode) {
    if (s.count > 0) parts.push_back(&s);
  }
  if (parts.empty()) return per_episode.empty() ? FeatureStatistics{} : per_episode.front();

  const std::size_t channels = parts.front()->mean.size();
  for (const FeatureStatistics* s : parts) {
    for (const auto* v : {&s->min, &s->max, &s->mean, &s->std, &s->q01, &s->q10, &s->q50, &s->q90, &s->q99}) {
      if (v->size() != channels) {
        throw std::invalid_argument("AggregateStatistics: " + std::to_string(v->size()) + " channels after " +
                                    std::to_string(channels));
      }
    }
  }

  FeatureStatistics total = EmptyStatistics(static_cast<std::int64_t>(channels));
  for (const FeatureStatistics* s : parts) total.count += s->count;
  const double n = static_cast<double>(total.count);
  for (std::size_t c = 0; c < channels; ++c) {
    double min = parts.front()->min[c], max = parts.front()->max[c];
    double mean = 0, q01 = 0, q10 = 0, q50 = 0, q90 = 0, q99 = 0;
    for (const FeatureStatistics* s : parts) {
      const double w = static_cast<double>(s->count) / n;
      min = NanMin(min, s->min[c]);
      max = NanMax(max, s->max[c]);
      mean += w * s->mean[c];
      q01 += w * s->q01[c];
      q10 += w * s->q10[c];
      q50 += w * s->q50[c];
      q90 += w * s->q90[c];
      q99 += w * s->q99[c];
    }
    // Parallel-axis form (LeRobot's): within-episode variance plus the spread of episode means around the
    // total mean, which stays accurate where E[x^2] - mean^2 would cancel.
    double variance = 0;
    for (const FeatureStatistics* s : parts) {
      const double delta = s->mean[c] - mean;
      variance += static_cast<double>(s->count) / n * (s->std[c] * s->std[c] + delta * delta);
    }
    SetChannel(total, c, min, max, mean, std::sqrt(variance), {q01, q10, q50, q90, q99});
  }
  return total;
}

}  // namespace r2s::episode
