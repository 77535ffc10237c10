#include "episode/lerobot/lerobot_stats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

namespace r2s::episode::lerobot {
namespace {

constexpr int kBins = 5000;  // RunningQuantileStats' num_quantile_bins
constexpr std::array<double, 5> kQuantiles = {0.01, 0.10, 0.50, 0.90, 0.99};

// np.linspace(min - 1e-10, max + 1e-10, kBins + 1), element for element as numpy computes it.
std::vector<double> BinEdges(double min, double max) {
  const double start = min - 1e-10, stop = max + 1e-10;
  const double step = (stop - start) / kBins;
  std::vector<double> edges(kBins + 1);
  for (int i = 0; i <= kBins; ++i) edges[i] = static_cast<double>(i) * step + start;
  edges[kBins] = stop;
  return edges;
}

// np.histogram's bin for a value inside the edges: edges[i] <= x < edges[i + 1], the last bin closed.
int BinOf(const std::vector<double>& edges, double x) {
  const auto it = std::upper_bound(edges.begin(), edges.end(), x);
  return std::clamp(static_cast<int>(it - edges.begin()) - 1, 0, kBins - 1);
}

// RunningQuantileStats._compute_single_quantile, given np.cumsum of the histogram.
double HistogramQuantile(const std::vector<double>& cumsum, const std::vector<double>& edges, double target) {
  const auto idx = static_cast<std::size_t>(std::lower_bound(cumsum.begin(), cumsum.end(), target) - cumsum.begin());
  if (idx == 0) return edges.front();
  if (idx >= cumsum.size()) return edges.back();
  const double before = cumsum[idx - 1];
  const double in_bin = cumsum[idx] - before;
  if (in_bin == 0) return edges[idx];
  return edges[idx] + (target - before) / in_bin * (edges[idx + 1] - edges[idx]);
}

void Resize(FeatureStatistics& s, std::size_t channels) {
  for (auto* v : {&s.min, &s.max, &s.mean, &s.std, &s.q01, &s.q10, &s.q50, &s.q90, &s.q99}) v->assign(channels, 0);
}

void SetQuantiles(FeatureStatistics& s, std::size_t c, const std::array<double, 5>& q) {
  s.q01[c] = q[0];
  s.q10[c] = q[1];
  s.q50[c] = q[2];
  s.q90[c] = q[3];
  s.q99[c] = q[4];
}

// One channel from a weighted list of values (weight = how often the value occurs); n = total weight.
template <class Values>
void ChannelFromValues(const Values& values, double n, std::size_t c, FeatureStatistics& s) {
  double min = values.front().first, max = min, sum = 0;
  for (const auto& [v, w] : values) {
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v * w;
  }
  const double mean = sum / n;
  double squares = 0;
  for (const auto& [v, w] : values) squares += w * (v - mean) * (v - mean);
  s.min[c] = min;
  s.max[c] = max;
  s.mean[c] = mean;
  s.std[c] = std::sqrt(std::max(0.0, squares / n));
  std::array<double, 5> q{};
  if (n < 2) {
    q.fill(mean);  // _compute_basic_stats: quantiles are the mean below two samples
  } else {
    const std::vector<double> edges = BinEdges(min, max);
    std::vector<double> histogram(kBins, 0.0);
    for (const auto& [v, w] : values) histogram[BinOf(edges, v)] += w;
    double running = 0;
    for (double& count : histogram) count = running += count;  // now the cumulative sum
    for (std::size_t i = 0; i < q.size(); ++i) q[i] = HistogramQuantile(histogram, edges, kQuantiles[i] * n);
  }
  SetQuantiles(s, c, q);
}

FeatureStatistics ImageStatistics(const Array& frames) {
  const std::int64_t t = frames.shape[0], h = frames.shape[1], w = frames.shape[2], channels = frames.shape[3];
  // auto_downsample_height_width(target_size=150, max_size_threshold=300).
  std::int64_t step = 1;
  if (std::max(w, h) >= 300) step = w > h ? w / 150 : h / 150;
  const auto sampled = SampleIndices(t);
  std::vector<std::array<double, 256>> histograms(static_cast<std::size_t>(channels));
  for (auto& hist : histograms) hist.fill(0);
  const auto pixels = frames.values<std::uint8_t>();
  for (std::int64_t f : sampled) {
    for (std::int64_t y = 0; y < h; y += step) {
      const std::uint8_t* row = pixels.data() + ((f * h + y) * w) * channels;
      for (std::int64_t x = 0; x < w; x += step) {
        for (std::int64_t c = 0; c < channels; ++c) histograms[c][row[x * channels + c]] += 1;
      }
    }
  }
  FeatureStatistics s;
  Resize(s, static_cast<std::size_t>(channels));
  s.count = static_cast<std::int64_t>(sampled.size());
  for (std::int64_t c = 0; c < channels; ++c) {
    std::vector<std::pair<double, double>> values;
    double n = 0;
    for (int b = 0; b < 256; ++b) {
      if (histograms[c][b] > 0) values.emplace_back(b, histograms[c][b]), n += histograms[c][b];
    }
    if (values.empty()) continue;
    ChannelFromValues(values, n, static_cast<std::size_t>(c), s);
    for (auto* v : {&s.min, &s.max, &s.mean, &s.std, &s.q01, &s.q10, &s.q50, &s.q90, &s.q99}) (*v)[c] /= 255.0;
  }
  return s;
}

}  // namespace

std::vector<std::int64_t> SampleIndices(std::int64_t frames) {
  // estimate_num_samples(min 100, max 10000, power 0.75), then np.round(np.linspace(0, n - 1, samples)).
  const std::int64_t min_samples = std::min<std::int64_t>(100, frames);
  const std::int64_t samples =
      std::max(min_samples,
               std::min<std::int64_t>(static_cast<std::int64_t>(std::pow(static_cast<double>(frames), 0.75)), 10000));
  std::vector<std::int64_t> indices;
  if (samples <= 0) return indices;
  if (samples == 1) return {0};
  const double step = static_cast<double>(frames - 1) / static_cast<double>(samples - 1);
  for (std::int64_t i = 0; i < samples; ++i) {
    const double x = i == samples - 1 ? static_cast<double>(frames - 1) : static_cast<double>(i) * step;
    indices.push_back(static_cast<std::int64_t>(std::nearbyint(x)));  // numpy rounds half to even
  }
  return indices;
}

FeatureStatistics LeRobotStatistics(const Array& frames, bool image) {
  if (frames.shape.empty() || frames.shape[0] == 0) {
    throw std::invalid_argument("LeRobot statistics of an empty column " + ShapeToString(frames.shape));
  }
  if (image) {
    if (frames.dtype != DType::kUInt8 || frames.shape.size() != 4) {
      throw std::invalid_argument("LeRobot image statistics need uint8 [T, H, W, C], got " +
                                  ShapeToString(frames.shape));
    }
    return ImageStatistics(frames);
  }
  const std::int64_t t = frames.shape[0];
  const std::int64_t channels = FrameWidth(frames);
  FeatureStatistics s;
  Resize(s, static_cast<std::size_t>(channels));
  s.count = t;
  VisitNumeric(frames.dtype, [&](auto zero) {
    using T = decltype(zero);
    const auto data = frames.values<T>();
    std::vector<std::pair<double, double>> values(static_cast<std::size_t>(t));
    for (std::int64_t c = 0; c < channels; ++c) {
      for (std::int64_t f = 0; f < t; ++f) values[f] = {static_cast<double>(data[f * channels + c]), 1.0};
      ChannelFromValues(values, static_cast<double>(t), static_cast<std::size_t>(c), s);
      if constexpr (std::is_same_v<T, float>) {
        // np.mean and the std of a float32 column are float32 in LeRobot; keep its precision so the figures
        // print alike.
        s.mean[c] = static_cast<float>(s.mean[c]);
        s.std[c] = static_cast<float>(s.std[c]);
      }
    }
  });
  return s;
}

}  // namespace r2s::episode::lerobot
