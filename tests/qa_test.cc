// QA findings on synthetic episodes with planted faults: timestamp gaps and steps back, NaN/Inf, constant
// channels, and a known action-to-state latency.

#include "episode/qa.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

namespace r2s::episode {
namespace {

template <class T>
Column MakeColumn(std::vector<std::int64_t> shape, const std::vector<T>& values) {
  return ColumnOf(Array::Of<T>(std::move(shape), std::span<const T>(values)));
}

FeatureSpec Spec(DType dtype, std::vector<std::int64_t> shape, std::vector<std::vector<std::string>> names = {}) {
  FeatureSpec spec;
  spec.dtype = dtype;
  spec.shape = std::move(shape);
  spec.names = std::move(names);
  return spec;
}

Episode MakeEpisode(std::int64_t index) {
  Episode episode;
  episode.metadata.index = index;
  return episode;
}

// ---- timestamps ----

std::vector<double> RegularTimestamps(std::int64_t frames, double period_s) {
  std::vector<double> ts;
  for (std::int64_t i = 0; i < frames; ++i) ts.push_back(static_cast<double>(i) * period_s);
  return ts;
}

TEST(QaTest, FindsPlantedTimestampGapAndStepBack) {
  const Features features = {{"timestamp", Spec(DType::kFloat64, {})}};
  QaAccumulator qa(features, 50.0);

  Episode clean = MakeEpisode(3);
  clean.columns["timestamp"] = MakeColumn<double>({100}, RegularTimestamps(100, 0.02));
  qa.Add(clean);

  // Episode 7: 100 ms of missing frames before frame 40, and frame 70 repeating frame 69's time, which makes
  // the step into frame 71 a double period, a second gap.
  std::vector<double> ts = RegularTimestamps(100, 0.02);
  for (std::size_t i = 40; i < ts.size(); ++i) ts[i] += 0.1;
  ts[70] = ts[69];
  Episode faulty = MakeEpisode(7);
  faulty.columns["timestamp"] = MakeColumn<double>({100}, ts);
  qa.Add(faulty);

  const QaReport report = qa.Finish();
  ASSERT_TRUE(report.timestamps.has_value());
  const TimestampFindings& t = *report.timestamps;
  EXPECT_EQ(t.frames, 200);
  EXPECT_NEAR(t.median_period_s, 0.02, 1e-12);
  EXPECT_NEAR(t.measured_fps(), 50.0, 1e-9);
  EXPECT_EQ(t.non_monotonic, 1);
  EXPECT_EQ(t.first_non_monotonic_episode, 7);
  EXPECT_EQ(t.first_non_monotonic_frame, 70);
  EXPECT_EQ(t.gaps, 2);
  EXPECT_NEAR(t.worst_gap_s, 0.12, 1e-12);
  EXPECT_EQ(t.worst_gap_episode, 7);
  EXPECT_EQ(t.worst_gap_frame, 40);
}

TEST(QaTest, CleanTimestampsHaveNoFindings) {
  QaAccumulator qa({{"timestamp", Spec(DType::kFloat32, {1})}}, std::nullopt);
  Episode episode = MakeEpisode(0);
  std::vector<float> ts;
  for (int i = 0; i < 500; ++i) ts.push_back(static_cast<float>(i) / 30.0f);
  episode.columns["timestamp"] = MakeColumn<float>({500, 1}, ts);
  qa.Add(episode);
  const TimestampFindings t = *qa.Finish().timestamps;
  EXPECT_EQ(t.frames, 500);
  EXPECT_NEAR(t.measured_fps(), 30.0, 1e-3);
  EXPECT_EQ(t.non_monotonic, 0);
  EXPECT_EQ(t.first_non_monotonic_episode, -1);
  EXPECT_EQ(t.gaps, 0);
}

TEST(QaTest, NoTimestampFeatureNoTimestampFindings) {
  QaAccumulator qa({{"observation.state", Spec(DType::kFloat32, {2})}}, 10.0);
  EXPECT_FALSE(qa.Finish().timestamps.has_value());
}

// ---- non-finite values ----

TEST(QaTest, ReportsPlantedNanAndInfWithEpisodeAndFirstFrame) {
  const Features features = {{"observation.state", Spec(DType::kFloat32, {7})},
                             {"action", Spec(DType::kFloat64, {7})},
                             {"frame_index", Spec(DType::kInt64, {})}};
  QaAccumulator qa(features, 50.0);
  for (std::int64_t index : {0, 1}) {
    Episode episode = MakeEpisode(index);
    std::vector<float> state(40 * 7, 0.25f);
    std::vector<double> action(40 * 7, 0.5);
    std::vector<std::int64_t> frame_index(40, 0);
    if (index == 1) {
      state[13 * 7 + 2] = std::numeric_limits<float>::quiet_NaN();
      state[20 * 7 + 5] = std::numeric_limits<float>::infinity();
      action[39 * 7 + 6] = -std::numeric_limits<double>::infinity();
    }
    episode.columns["observation.state"] = MakeColumn<float>({40, 7}, state);
    episode.columns["action"] = MakeColumn<double>({40, 7}, action);
    episode.columns["frame_index"] = MakeColumn<std::int64_t>({40}, frame_index);
    qa.Add(episode);
  }
  const QaReport report = qa.Finish();
  ASSERT_EQ(report.non_finite.size(), 2u);
  // Features in name order within an episode.
  EXPECT_EQ(report.non_finite[0].feature, "action");
  EXPECT_EQ(report.non_finite[0].episode, 1);
  EXPECT_EQ(report.non_finite[0].frame, 39);
  EXPECT_EQ(report.non_finite[0].count, 1);
  EXPECT_EQ(report.non_finite[1].feature, "observation.state");
  EXPECT_EQ(report.non_finite[1].episode, 1);
  EXPECT_EQ(report.non_finite[1].frame, 13);
  EXPECT_EQ(report.non_finite[1].count, 2);
}

// ---- constant channels ----

TEST(QaTest, ReportsChannelsConstantOverTheWholeDatasetWithTheirNames) {
  std::vector<std::string> joints = {"q1", "q2", "q3", "q4", "q5", "q6", "q7"};
  const Features features = {
      {"observation.state", Spec(DType::kFloat32, {7}, {joints})},
      {"observation.wrench", Spec(DType::kFloat64, {2, 3}, {{"left", "right"}, {"x", "y", "z"}})},
      {"observation.images.front", Spec(DType::kUInt8, {4, 4, 3})},
      {"next.done", Spec(DType::kBool, {})}};
  QaAccumulator qa(features, 50.0);
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (std::int64_t index : {0, 1}) {
    constexpr std::int64_t kFrames = 30;
    Episode episode = MakeEpisode(index);
    std::vector<float> state;
    std::vector<double> wrench;
    for (std::int64_t t = 0; t < kFrames; ++t) {
      for (int c = 0; c < 7; ++c) {
        // q4 is 0.5 everywhere; q6 is constant within each episode but differs between them.
        const double v = c == 3 ? 0.5 : c == 5 ? static_cast<double>(index) : noise(rng);
        state.push_back(static_cast<float>(v));
      }
      for (int c = 0; c < 6; ++c) wrench.push_back(c == 4 ? -9.81 : noise(rng));
    }
    episode.columns["observation.state"] = MakeColumn<float>({kFrames, 7}, state);
    episode.columns["observation.wrench"] = MakeColumn<double>({kFrames, 2, 3}, wrench);
    episode.columns["observation.images.front"] =
        MakeColumn<std::uint8_t>({kFrames, 4, 4, 3}, std::vector<std::uint8_t>(kFrames * 48, 17));
    Column done = MakeColumn<std::uint8_t>({kFrames}, std::vector<std::uint8_t>(kFrames, 0));
    done.data.dtype = DType::kBool;
    episode.columns["next.done"] = done;
    qa.Add(episode);
  }
  const QaReport report = qa.Finish();
  // Images are never reported; features in name order.
  ASSERT_EQ(report.constant_channels.size(), 3u);
  EXPECT_EQ(report.constant_channels[0].feature, "next.done");
  EXPECT_EQ(report.constant_channels[0].channel, 0);
  EXPECT_EQ(report.constant_channels[0].name, "");
  EXPECT_EQ(report.constant_channels[0].value, 0.0);
  EXPECT_EQ(report.constant_channels[1].feature, "observation.state");
  EXPECT_EQ(report.constant_channels[1].channel, 3);
  EXPECT_EQ(report.constant_channels[1].name, "q4");
  EXPECT_EQ(report.constant_channels[1].value, 0.5);
  EXPECT_EQ(report.constant_channels[2].feature, "observation.wrench");
  EXPECT_EQ(report.constant_channels[2].channel, 4);
  EXPECT_EQ(report.constant_channels[2].name, "right.y");
  EXPECT_EQ(report.constant_channels[2].value, -9.81);
}

TEST(QaTest, ASingleFrameIsNotCalledConstant) {
  QaAccumulator qa({{"x", Spec(DType::kFloat32, {2})}}, std::nullopt);
  Episode episode = MakeEpisode(0);
  episode.columns["x"] = MakeColumn<float>({1, 2}, {1.0f, 2.0f});
  qa.Add(episode);
  EXPECT_TRUE(qa.Finish().constant_channels.empty());
}

// ---- latency ----

constexpr std::int64_t kJoints = 7;
constexpr double kRateHz = 50.0;

// 20 s of a 7-channel action at 50 Hz: per channel an offset (joint positions rarely centre on 0, which makes
// raw signals correlate best at lag 0), three sines of random frequency, amplitude and phase, and white noise;
// row-major [frames, 7].
std::vector<double> SmoothAction(std::mt19937& rng, std::int64_t frames) {
  std::uniform_real_distribution<double> offset(-2.0, 2.0), frequency_hz(0.1, 1.5), amplitude(0.2, 1.0),
      phase(0.0, 2 * std::numbers::pi);
  std::normal_distribution<double> noise(0.0, 0.01);
  std::vector<double> action(static_cast<std::size_t>(frames * kJoints));
  for (std::int64_t c = 0; c < kJoints; ++c) {
    const double level = offset(rng);
    for (std::int64_t t = 0; t < frames; ++t) action[t * kJoints + c] = level;
    for (int k = 0; k < 3; ++k) {
      const double f = frequency_hz(rng), a = amplitude(rng), p = phase(rng);
      for (std::int64_t t = 0; t < frames; ++t) {
        action[t * kJoints + c] += a * std::sin(2 * std::numbers::pi * f * static_cast<double>(t) / kRateHz + p);
      }
    }
    for (std::int64_t t = 0; t < frames; ++t) action[t * kJoints + c] += noise(rng);
  }
  return action;
}

// state[t] = action[t - lag_frames] (negative: ahead), linearly interpolated between frames, clamped at the
// ends, plus measurement noise.
std::vector<double> Delayed(const std::vector<double>& action, std::int64_t frames, double lag_frames,
                            std::mt19937& rng) {
  std::normal_distribution<double> noise(0.0, 0.002);
  std::vector<double> state(action.size());
  auto at = [&](std::int64_t t, std::int64_t c) {
    return action[std::clamp<std::int64_t>(t, 0, frames - 1) * kJoints + c];
  };
  for (std::int64_t t = 0; t < frames; ++t) {
    const double source = static_cast<double>(t) - lag_frames;
    const auto below = static_cast<std::int64_t>(std::floor(source));
    const double frac = source - static_cast<double>(below);
    for (std::int64_t c = 0; c < kJoints; ++c) {
      state[t * kJoints + c] = (1 - frac) * at(below, c) + frac * at(below + 1, c) + noise(rng);
    }
  }
  return state;
}

Features LatencyFeatures(bool with_timestamps) {
  Features features = {{"action", Spec(DType::kFloat32, {kJoints})},
                       {"observation.state", Spec(DType::kFloat32, {kJoints})}};
  if (with_timestamps) features["timestamp"] = Spec(DType::kFloat32, {});
  return features;
}

// Episodes cut from one recording of `frames` frames, the state lagging the action by lag_frames.
std::vector<Episode> LaggedEpisodes(double lag_frames, std::int64_t frames, int pieces, bool with_timestamps,
                                    unsigned seed) {
  std::mt19937 rng(seed);
  const std::vector<double> action = SmoothAction(rng, frames);
  const std::vector<double> state = Delayed(action, frames, lag_frames, rng);
  std::vector<Episode> episodes;
  const std::int64_t length = frames / pieces;
  for (int e = 0; e < pieces; ++e) {
    Episode episode = MakeEpisode(e);
    const auto begin = static_cast<std::size_t>(e * length * kJoints);
    const auto end = begin + static_cast<std::size_t>(length * kJoints);
    episode.columns["action"] =
        MakeColumn<float>({length, kJoints}, std::vector<float>(action.begin() + begin, action.begin() + end));
    episode.columns["observation.state"] =
        MakeColumn<float>({length, kJoints}, std::vector<float>(state.begin() + begin, state.begin() + end));
    if (with_timestamps) {
      std::vector<float> ts;
      for (std::int64_t t = 0; t < length; ++t) ts.push_back(static_cast<float>(static_cast<double>(t) / kRateHz));
      episode.columns["timestamp"] = MakeColumn<float>({length}, ts);
    }
    episodes.push_back(std::move(episode));
  }
  return episodes;
}

LatencyEstimate EstimateLatency(double lag_frames, int pieces = 1, bool with_timestamps = true,
                                std::optional<double> fps = kRateHz, unsigned seed = 42) {
  QaAccumulator qa(LatencyFeatures(with_timestamps), fps);
  for (const Episode& episode : LaggedEpisodes(lag_frames, 1000, pieces, with_timestamps, seed)) qa.Add(episode);
  const QaReport report = qa.Finish();
  EXPECT_TRUE(report.latency.has_value());
  return report.latency.value_or(LatencyEstimate{});
}

TEST(QaTest, FindsPlanted40MsLatency) {
  for (unsigned seed : {1u, 2u, 3u}) {
    const LatencyEstimate latency = EstimateLatency(2.0, 1, true, kRateHz, seed);
    EXPECT_EQ(latency.action_feature, "action");
    EXPECT_EQ(latency.state_feature, "observation.state");
    EXPECT_NEAR(latency.lag_frames, 2.0, 0.25) << "seed " << seed;
    EXPECT_NEAR(latency.lag_ms.value(), 40.0, 5.0) << "seed " << seed;
    EXPECT_GT(latency.peak_correlation, 0.5);
    EXPECT_LE(latency.peak_correlation, 1.0);
  }
}

TEST(QaTest, StateAheadOfActionGivesANegativeLag) {
  const LatencyEstimate latency = EstimateLatency(-3.0);
  EXPECT_NEAR(latency.lag_frames, -3.0, 0.25);
  EXPECT_NEAR(latency.lag_ms.value(), -60.0, 5.0);
}

TEST(QaTest, NoDelayGivesZeroLag) {
  const LatencyEstimate latency = EstimateLatency(0.0);
  EXPECT_NEAR(latency.lag_frames, 0.0, 0.25);
  EXPECT_NEAR(latency.lag_ms.value(), 0.0, 5.0);
}

TEST(QaTest, SubFrameLatencyByInterpolation) {
  const LatencyEstimate latency = EstimateLatency(3.5);
  EXPECT_NEAR(latency.lag_frames, 3.5, 0.25);  // the integer peak alone would be 3 or 4
  EXPECT_NEAR(latency.lag_ms.value(), 70.0, 5.0);
}

TEST(QaTest, LatencyPoolsOverEpisodes) {
  const LatencyEstimate whole = EstimateLatency(2.0, 1);
  const LatencyEstimate pooled = EstimateLatency(2.0, 4);
  EXPECT_NEAR(pooled.lag_frames, 2.0, 0.25);
  EXPECT_NEAR(pooled.lag_frames, whole.lag_frames, 0.1);
}

TEST(QaTest, LatencyInMsFromFpsWithoutTimestamps) {
  const LatencyEstimate from_fps = EstimateLatency(2.0, 1, false, 25.0);  // declared 25 fps: 40 ms per frame
  EXPECT_NEAR(from_fps.lag_frames, 2.0, 0.25);
  EXPECT_NEAR(from_fps.lag_ms.value(), from_fps.lag_frames * 40.0, 1e-9);
  const LatencyEstimate no_rate = EstimateLatency(2.0, 1, false, std::nullopt);
  EXPECT_NEAR(no_rate.lag_frames, 2.0, 0.25);
  EXPECT_FALSE(no_rate.lag_ms.has_value());
}

TEST(QaTest, NoLatencyWithoutActionOrMatchingState) {
  Features no_action = LatencyFeatures(true);
  no_action.erase("action");
  EXPECT_EQ(MatchingStateFeature(no_action), "");
  QaAccumulator qa(no_action, kRateHz);
  for (Episode& episode : LaggedEpisodes(2.0, 400, 1, true, 9)) {
    episode.columns.erase("action");
    qa.Add(episode);
  }
  EXPECT_FALSE(qa.Finish().latency.has_value());

  Features other_shape = LatencyFeatures(false);
  other_shape["observation.state"].shape = {6};
  EXPECT_EQ(MatchingStateFeature(other_shape), "");
  EXPECT_EQ(MatchingStateFeature(LatencyFeatures(false)), "observation.state");
}

TEST(QaTest, NoLatencyWhenNothingMoves) {
  QaAccumulator qa(LatencyFeatures(false), kRateHz);
  Episode episode = MakeEpisode(0);
  episode.columns["action"] = MakeColumn<float>({100, kJoints}, std::vector<float>(100 * kJoints, 1.0f));
  episode.columns["observation.state"] = MakeColumn<float>({100, kJoints}, std::vector<float>(100 * kJoints, 1.0f));
  qa.Add(episode);
  EXPECT_FALSE(qa.Finish().latency.has_value());
}

}  // namespace
}  // namespace r2s::episode
