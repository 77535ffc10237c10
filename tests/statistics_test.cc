// Per-episode statistics and their aggregation, checked against numpy on the same values.

#include "episode/statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "tests/test_support.h"

namespace r2s::episode {
namespace {

using testing::RunPython;
using testing::TempDir;

// Prints, for each (file, dtype, shape, kind) group of arguments, "<file> <stat> <values...>" lines with the
// statistics numpy (and LeRobot's compute_episode_stats) gives: per element of a frame, or per colour channel
// scaled by 1/255 for images.
constexpr char kNumpyStatistics[] = R"py(
import sys
import numpy as np
args = sys.argv[1:]
for i in range(0, len(args), 4):
    path, dtype, shape, kind = args[i:i + 4]
    a = np.fromfile(path, dtype=dtype).reshape([int(d) for d in shape.split(',')])
    if kind == 'image':
        x, scale = a.reshape(-1, a.shape[-1]), 255.0
    else:
        x, scale = a.reshape(a.shape[0], -1).astype(np.float64), 1.0
    q = np.quantile(x, [0.01, 0.1, 0.5, 0.9, 0.99], axis=0)
    print(path, 'count', x.shape[0])
    for name, v in [('min', x.min(0)), ('max', x.max(0)), ('mean', x.mean(0)), ('std', x.std(0)),
                    ('q01', q[0]), ('q10', q[1]), ('q50', q[2]), ('q90', q[3]), ('q99', q[4])]:
        print(path, name, *[repr(float(e) / scale) for e in v])
)py";

// The numpy figures of one file: stat name -> values ("count" has one).
using Expected = std::map<std::string, std::vector<double>>;

std::map<std::string, Expected> ParseStatistics(const std::string& out) {
  std::map<std::string, Expected> result;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string file, stat;
    fields >> file >> stat;
    std::vector<double>& values = result[file][stat];
    for (std::string v; fields >> v;) values.push_back(std::stod(v));
  }
  return result;
}

std::string JoinShape(const std::vector<std::int64_t>& shape) {
  std::string s;
  for (std::int64_t d : shape) s += (s.empty() ? "" : ",") + std::to_string(d);
  return s;
}

void WriteRaw(const std::filesystem::path& path, const Array& array) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(array.bytes.data()), static_cast<std::streamsize>(array.bytes.size()));
}

// Runs numpy over the given columns (written to dir) and returns its figures per feature.
std::map<std::string, Expected> NumpyStatistics(const TempDir& dir, const Episode& episode, const Features& features) {
  std::vector<std::string> args;
  std::map<std::string, std::string> feature_of_file;
  int n = 0;
  for (const auto& [name, spec] : features) {
    const Column* column = episode.Find(name);
    if (column == nullptr) continue;
    const std::string file = (dir / ("column" + std::to_string(n++) + ".bin")).string();
    WriteRaw(file, column->data);
    feature_of_file[file] = name;
    args.insert(args.end(), {file, std::string(DTypeName(column->data.dtype)), JoinShape(column->data.shape),
                             spec.IsImage() ? "image" : "vector"});
  }
  const auto result = RunPython(kNumpyStatistics, args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::map<std::string, Expected> by_feature;
  for (auto& [file, expected] : ParseStatistics(result.out)) by_feature[feature_of_file.at(file)] = expected;
  return by_feature;
}

void ExpectNear(const std::vector<double>& actual, const std::vector<double>& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], 1e-9 * std::max(1.0, std::abs(expected[i]))) << what << " channel " << i;
  }
}

void ExpectMatches(const FeatureStatistics& s, const Expected& e, const std::string& feature) {
  ASSERT_EQ(e.at("count").size(), 1u);
  EXPECT_EQ(static_cast<double>(s.count), e.at("count")[0]) << feature;
  ExpectNear(s.min, e.at("min"), feature + " min");
  ExpectNear(s.max, e.at("max"), feature + " max");
  ExpectNear(s.mean, e.at("mean"), feature + " mean");
  ExpectNear(s.std, e.at("std"), feature + " std");
  ExpectNear(s.q01, e.at("q01"), feature + " q01");
  ExpectNear(s.q10, e.at("q10"), feature + " q10");
  ExpectNear(s.q50, e.at("q50"), feature + " q50");
  ExpectNear(s.q90, e.at("q90"), feature + " q90");
  ExpectNear(s.q99, e.at("q99"), feature + " q99");
}

template <class T>
Column MakeColumn(std::vector<std::int64_t> shape, const std::vector<T>& values) {
  return ColumnOf(Array::Of<T>(std::move(shape), std::span<const T>(values)));
}

FeatureSpec Spec(DType dtype, std::vector<std::int64_t> shape) {
  FeatureSpec spec;
  spec.dtype = dtype;
  spec.shape = std::move(shape);
  return spec;
}

// frames x channels values, channel c drawn from N(offset_c, scale_c) so channels differ.
template <class T>
std::vector<T> Normal(std::mt19937& rng, std::int64_t frames, std::int64_t channels, double offset) {
  std::vector<T> values;
  std::normal_distribution<double> unit(0.0, 1.0);
  for (std::int64_t t = 0; t < frames; ++t) {
    for (std::int64_t c = 0; c < channels; ++c) {
      values.push_back(static_cast<T>(offset + 3.0 * c + (0.5 + c) * unit(rng)));
    }
  }
  return values;
}

TEST(StatisticsTest, VectorAndScalarFeaturesMatchNumpy) {
  std::mt19937 rng(7);
  constexpr std::int64_t kFrames = 257;  // (n - 1) x q is fractional: quantiles interpolate
  Episode episode;
  Features features;
  features["observation.state"] = Spec(DType::kFloat32, {7});
  episode.columns["observation.state"] = MakeColumn<float>({kFrames, 7}, Normal<float>(rng, kFrames, 7, -2.0));
  features["action"] = Spec(DType::kFloat64, {2, 3});
  episode.columns["action"] = MakeColumn<double>({kFrames, 2, 3}, Normal<double>(rng, kFrames, 6, 100.0));
  // Few distinct values: the quantiles fall on ties.
  std::vector<std::int16_t> effort;
  std::uniform_int_distribution<int> small(-3, 3);
  for (std::int64_t i = 0; i < kFrames * 4; ++i) effort.push_back(static_cast<std::int16_t>(small(rng)));
  features["observation.effort"] = Spec(DType::kInt16, {4});
  episode.columns["observation.effort"] = MakeColumn<std::int16_t>({kFrames, 4}, effort);
  std::vector<std::int64_t> frame_index;
  for (std::int64_t t = 0; t < kFrames; ++t) frame_index.push_back(kFrames - 1 - t);
  features["frame_index"] = Spec(DType::kInt64, {});
  episode.columns["frame_index"] = MakeColumn<std::int64_t>({kFrames}, frame_index);
  // Bool columns count as 0/1.
  std::vector<std::uint8_t> done;
  std::bernoulli_distribution coin(0.2);
  for (std::int64_t t = 0; t < kFrames; ++t) done.push_back(coin(rng) ? 1 : 0);
  features["next.done"] = Spec(DType::kBool, {});
  Column done_column = MakeColumn<std::uint8_t>({kFrames}, done);
  done_column.data.dtype = DType::kBool;
  episode.columns["next.done"] = done_column;

  TempDir dir;
  const auto stats = ComputeEpisodeStatistics(episode, features);
  const auto expected = NumpyStatistics(dir, episode, features);
  ASSERT_EQ(stats.size(), features.size());
  ASSERT_EQ(expected.size(), features.size());
  for (const auto& [name, s] : stats) ExpectMatches(s, expected.at(name), name);
  EXPECT_EQ(stats.at("action").mean.size(), 6u);       // [2, 3] -> 6 channels
  EXPECT_EQ(stats.at("frame_index").mean.size(), 1u);  // [] -> 1 channel
}

TEST(StatisticsTest, ImagesMatchNumpyPerColourChannel) {
  std::mt19937 rng(11);
  Episode episode;
  Features features;
  // Odd pixel counts, and channels with different distributions: full range, a narrow band, mostly one value.
  auto image = [&](std::int64_t frames, std::int64_t height, std::int64_t width, std::int64_t channels) {
    std::vector<std::uint8_t> pixels;
    std::uniform_int_distribution<int> full(0, 255), band(100, 120);
    std::bernoulli_distribution rare(0.03);
    for (std::int64_t i = 0; i < frames * height * width; ++i) {
      for (std::int64_t c = 0; c < channels; ++c) {
        const int v = c % 3 == 0 ? full(rng) : c % 3 == 1 ? band(rng) : (rare(rng) ? 200 : 7);
        pixels.push_back(static_cast<std::uint8_t>(v));
      }
    }
    return MakeColumn<std::uint8_t>({frames, height, width, channels}, pixels);
  };
  features["observation.images.front"] = Spec(DType::kUInt8, {24, 33, 3});
  episode.columns["observation.images.front"] = image(4, 24, 33, 3);
  features["observation.images.mask"] = Spec(DType::kUInt8, {7, 5, 1});
  episode.columns["observation.images.mask"] = image(3, 7, 5, 1);
  features["observation.images.rgba"] = Spec(DType::kUInt8, {9, 11, 4});
  episode.columns["observation.images.rgba"] = image(2, 9, 11, 4);

  TempDir dir;
  const auto stats = ComputeEpisodeStatistics(episode, features);
  const auto expected = NumpyStatistics(dir, episode, features);
  ASSERT_EQ(expected.size(), 3u);
  for (const auto& [name, s] : stats) ExpectMatches(s, expected.at(name), name);
  EXPECT_EQ(stats.at("observation.images.front").count, 4 * 24 * 33);  // values per channel
  EXPECT_EQ(stats.at("observation.images.rgba").mean.size(), 4u);
}

TEST(StatisticsTest, NanMakesOnlyItsChannelNan) {
  std::vector<double> values = {1, 2, 3, 4, 5, 6, 7, 8};  // [4, 2]
  values[5] = std::nan("");
  Episode episode;
  episode.columns["x"] = MakeColumn<double>({4, 2}, values);
  const auto s = ComputeEpisodeStatistics(episode, {{"x", Spec(DType::kFloat64, {2})}}).at("x");
  EXPECT_EQ(s.min[0], 1);
  EXPECT_EQ(s.max[0], 7);
  EXPECT_EQ(s.q50[0], 4);
  for (const auto* v : {&s.min, &s.max, &s.mean, &s.std, &s.q01, &s.q10, &s.q50, &s.q90, &s.q99})
    EXPECT_TRUE(std::isnan((*v)[1]));
}

TEST(StatisticsTest, SkipsAbsentFeaturesAndCountsEmptyColumnsAsZero) {
  Episode episode;
  episode.columns["x"] = MakeColumn<float>({0, 3}, {});
  Features features = {{"x", Spec(DType::kFloat32, {3})}, {"absent", Spec(DType::kFloat32, {2})}};
  const auto stats = ComputeEpisodeStatistics(episode, features);
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats.at("x").count, 0);
  EXPECT_EQ(stats.at("x").mean.size(), 3u);
}

TEST(StatisticsTest, RejectsAColumnThatDoesNotFitItsSpec) {
  Episode episode;
  episode.columns["x"] = MakeColumn<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_THROW(ComputeEpisodeStatistics(episode, {{"x", Spec(DType::kFloat32, {4})}}), std::invalid_argument);
}

// Two episodes of different lengths and levels: min, max, mean and std must equal those of the concatenated
// data (the between-episode spread counts); quantiles are LeRobot's count-weighted mean of per-episode ones.
constexpr char kNumpyAggregate[] = R"py(
import sys
import numpy as np
a = np.fromfile(sys.argv[1], dtype='float32').reshape(-1, 5).astype(np.float64)
b = np.fromfile(sys.argv[2], dtype='float32').reshape(-1, 5).astype(np.float64)
x = np.concatenate([a, b])
w = np.array([len(a), len(b)], dtype=np.float64) / len(x)
qa = np.quantile(a, [0.01, 0.1, 0.5, 0.9, 0.99], axis=0)
qb = np.quantile(b, [0.01, 0.1, 0.5, 0.9, 0.99], axis=0)
q = w[0] * qa + w[1] * qb
print('all', 'count', len(x))
for name, v in [('min', x.min(0)), ('max', x.max(0)), ('mean', x.mean(0)), ('std', x.std(0)),
                ('q01', q[0]), ('q10', q[1]), ('q50', q[2]), ('q90', q[3]), ('q99', q[4])]:
    print('all', name, *[repr(float(e)) for e in v])
)py";

TEST(StatisticsTest, AggregateMatchesLeRobotFormulas) {
  std::mt19937 rng(3);
  const Features features = {{"s", Spec(DType::kFloat32, {5})}};
  Episode first, second, empty;
  first.columns["s"] = MakeColumn<float>({120, 5}, Normal<float>(rng, 120, 5, 0.0));
  second.columns["s"] = MakeColumn<float>({333, 5}, Normal<float>(rng, 333, 5, 40.0));
  empty.columns["s"] = MakeColumn<float>({0, 5}, {});
  std::vector<FeatureStatistics> parts;
  for (const Episode* e : {&first, &empty, &second}) parts.push_back(ComputeEpisodeStatistics(*e, features).at("s"));
  const FeatureStatistics total = AggregateStatistics(parts);

  TempDir dir;
  WriteRaw(dir / "a.bin", first.columns["s"].data);
  WriteRaw(dir / "b.bin", second.columns["s"].data);
  const auto result = RunPython(kNumpyAggregate, {(dir / "a.bin").string(), (dir / "b.bin").string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ExpectMatches(total, ParseStatistics(result.out).at("all"), "aggregate");
  EXPECT_EQ(total.count, 453);
}

TEST(StatisticsTest, AggregateOfOneEpisodeIsThatEpisode) {
  std::mt19937 rng(5);
  Episode episode;
  episode.columns["s"] = MakeColumn<double>({50, 3}, Normal<double>(rng, 50, 3, 1.0));
  const auto s = ComputeEpisodeStatistics(episode, {{"s", Spec(DType::kFloat64, {3})}}).at("s");
  const FeatureStatistics total = AggregateStatistics({s});
  EXPECT_EQ(total.count, s.count);
  ExpectNear(total.mean, s.mean, "mean");
  ExpectNear(total.std, s.std, "std");
  ExpectNear(total.q50, s.q50, "q50");
  EXPECT_EQ(total.min, s.min);
  EXPECT_EQ(total.max, s.max);
}

TEST(StatisticsTest, AggregateRejectsDifferentChannelCounts) {
  FeatureStatistics a, b;
  a.count = b.count = 1;
  for (auto* v : {&a.min, &a.max, &a.mean, &a.std, &a.q01, &a.q10, &a.q50, &a.q90, &a.q99}) v->assign(2, 0.0);
  for (auto* v : {&b.min, &b.max, &b.mean, &b.std, &b.q01, &b.q10, &b.q50, &b.q90, &b.q99}) v->assign(3, 0.0);
  EXPECT_THROW(AggregateStatistics({a, b}), std::invalid_argument);
  EXPECT_EQ(AggregateStatistics({}).count, 0);
}

}  // namespace
}  // namespace r2s::episode
