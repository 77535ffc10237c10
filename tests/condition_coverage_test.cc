// Condition coverage: scrambled Sobol and Latin hypercube points, the scene's `randomization: conditions:` section
// through the real parser, deterministic per-variant draws with edge cases, and the coverage report.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <boost/random/sobol.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "episode/input_error.h"
#include "randomize/condition_space.h"
#include "randomize/coverage_report.h"
#include "randomize/low_discrepancy.h"
#include "randomize/philox.h"
#include "tests/test_support.h"

namespace r2s::randomize {
namespace {

using Points = std::vector<std::vector<double>>;

Points SobolPoints(int dimension, std::uint32_t count, std::uint64_t seed) {
  const ScrambledSobol sobol(dimension, StreamKey{seed, 0, 0, StreamId("test")});
  Points points;
  for (std::uint32_t i = 0; i < count; ++i) points.push_back(sobol.Point(i));
  return points;
}

Points IidPoints(int dimension, std::uint32_t count, std::uint64_t seed) {
  const PhiloxKey key = DeriveKey(StreamKey{seed, 0, 0, StreamId("iid")});
  Points points;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::vector<double> p;
    for (int j = 0; j < dimension; ++j) p.push_back(U01(Philox(key, i, static_cast<std::uint32_t>(j), 0, 0).w[0]));
    points.push_back(p);
  }
  return points;
}

// ---------------------------------------------------------------------------------------------------------------
// Point sets

TEST(ScrambledSobolTest, UnscrambledPointsAreBoostsSobolSequence) {
  // Boost's engine runs in Gray-code order and skips the origin: its first 2^m - 1 points are our points 1..2^m-1.
  const int d = 6;
  const ScrambledSobol ours = ScrambledSobol::Unscrambled(d);
  boost::random::sobol_engine<std::uint32_t, 32> boost_engine(d);
  std::set<std::vector<std::uint32_t>> from_boost, from_ours;
  for (std::uint32_t i = 1; i < 128; ++i) {
    std::vector<std::uint32_t> a, b;
    for (int j = 0; j < d; ++j) a.push_back(boost_engine());
    for (int j = 0; j < d; ++j) b.push_back(ours.Bits(i, j));
    from_boost.insert(a);
    from_ours.insert(b);
  }
  EXPECT_EQ(from_boost, from_ours);
  EXPECT_EQ(ours.Point(1), std::vector<double>(d, U01(0x80000000u)));  // the centre
}

TEST(ScrambledSobolTest, LowerDiscrepancyThanIidAndStratified) {
  for (int d : {2, 5}) {
    double iid = 0;
    const int iid_seeds = 8;
    for (int s = 0; s < iid_seeds; ++s) iid += CenteredL2Discrepancy(IidPoints(d, 256, 100 + s)) / iid_seeds;
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      const double sobol = CenteredL2Discrepancy(SobolPoints(d, 256, seed));
      const double stratified = CenteredL2Discrepancy(StratifiedSample(d, 256, StreamKey{seed}));
      SCOPED_TRACE("d = " + std::to_string(d) + ", seed " + std::to_string(seed));
      if (seed == 1) {
        std::cout << "centered L2 discrepancy of 256 points in " << d << "-D: sobol " << sobol << ", stratified "
                  << stratified << ", iid (mean of " << iid_seeds << " seeds) " << iid << "\n";
      }
      EXPECT_LT(sobol, 0.5 * iid) << "sobol " << sobol << ", iid " << iid;
      EXPECT_LT(sobol, stratified) << "sobol " << sobol << ", stratified " << stratified;
      EXPECT_LT(stratified, iid) << "stratified " << stratified << ", iid " << iid;
    }
  }
}

TEST(ScrambledSobolTest, SeedsGiveDifferentPointsAndTheSameSeedTheSamePoints) {
  const Points a = SobolPoints(4, 64, 1), b = SobolPoints(4, 64, 2), a_again = SobolPoints(4, 64, 1);
  EXPECT_EQ(a, a_again);
  int equal_coordinates = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    for (std::size_t j = 0; j < a[i].size(); ++j) equal_coordinates += a[i][j] == b[i][j];
  }
  EXPECT_EQ(equal_coordinates, 0);
  // The episode (and stream) are part of the key as well.
  const ScrambledSobol episode_1(4, StreamKey{1, 1, 0, StreamId("test")});
  EXPECT_NE(episode_1.Point(5), a[5]);
}

TEST(ScrambledSobolTest, EveryBlockOfTwoToTheMPointsHasOnePointPerStratumInEachCoordinate) {
  const int d = 8;
  const ScrambledSobol sobol(d, StreamKey{7});
  for (int m : {1, 4, 8, 10}) {
    const std::uint32_t n = 1u << m;
    for (std::uint32_t block : {0u, 3u}) {  // [0, 2^m) and [3 2^m, 4 2^m)
      for (int j = 0; j < d; ++j) {
        std::vector<int> per_stratum(n, 0);
        for (std::uint32_t i = block * n; i < (block + 1) * n; ++i) {
          const double x = sobol.Point(i)[static_cast<std::size_t>(j)];
          ASSERT_GT(x, 0.0);
          ASSERT_LT(x, 1.0);
          ++per_stratum[static_cast<std::size_t>(x * n)];
        }
        EXPECT_TRUE(std::all_of(per_stratum.begin(), per_stratum.end(), [](int c) { return c == 1; }))
            << "m = " << m << ", block " << block << ", coordinate " << j;
      }
    }
  }
}

TEST(LatinHypercubeTest, OnePointPerStratumInEachCoordinateForAnyCount) {
  for (std::uint32_t count : {1u, 7u, 100u, 1000u}) {
    const Points points = StratifiedSample(3, count, StreamKey{11});
    for (int j = 0; j < 3; ++j) {
      std::vector<int> per_stratum(count, 0);
      for (const auto& p : points) ++per_stratum[static_cast<std::size_t>(p[static_cast<std::size_t>(j)] * count)];
      EXPECT_TRUE(std::all_of(per_stratum.begin(), per_stratum.end(), [](int c) { return c == 1; }))
          << count << " points, coordinate " << j;
    }
  }
  // Coordinates are permuted independently: the first two are not the same permutation.
  const Points points = StratifiedSample(2, 100, StreamKey{11});
  int same_stratum = 0;
  for (const auto& p : points) same_stratum += static_cast<int>(p[0] * 100) == static_cast<int>(p[1] * 100);
  EXPECT_LT(same_stratum, 10);
  EXPECT_THROW(LatinHypercube(2, 10, StreamKey{}).Point(10), std::out_of_range);
}

TEST(LatinHypercubeTest, KeyedPermutationIsABijectionThatDependsOnTheKey) {
  for (std::uint32_t n : {2u, 3u, 1000u, 65537u}) {
    std::vector<char> seen(n, 0);
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t p = KeyedPermutation(i, n, PhiloxKey{1, 2}, 3);
      ASSERT_LT(p, n);
      ASSERT_FALSE(seen[p]) << "n = " << n << ": " << p << " twice";
      seen[p] = 1;
    }
  }
  int differ = 0;
  for (std::uint32_t i = 0; i < 100; ++i)
    differ += KeyedPermutation(i, 100, {1, 2}, 3) != KeyedPermutation(i, 100, {1, 3}, 3);
  EXPECT_GT(differ, 80);
}

TEST(CenteredL2DiscrepancyTest, ClosedFormValuesAndIidRate) {
  // One point at the centre of [0, 1]: CD^2 = 13/12 - 2 + 1 = 1/12.
  EXPECT_NEAR(CenteredL2Discrepancy({{0.5}}), std::sqrt(1.0 / 12.0), 1e-15);
  // The regular grid (i + 1/2) / n in 1-D: CD^2 = 1 / (12 n^2).
  Points grid;
  for (int i = 0; i < 50; ++i) grid.push_back({(i + 0.5) / 50});
  EXPECT_NEAR(CenteredL2Discrepancy(grid), std::sqrt(1.0 / (12.0 * 50 * 50)), 1e-9);
  // I.i.d. points: falls as 1/sqrt(n), so 16x the points gives about a quarter of the discrepancy.
  double small = 0, large = 0;
  for (int s = 0; s < 6; ++s) {
    small += CenteredL2Discrepancy(IidPoints(3, 64, 200 + s));
    large += CenteredL2Discrepancy(IidPoints(3, 1024, 300 + s));
  }
  EXPECT_NEAR(large / small, 0.25, 0.08);
  EXPECT_THROW(CenteredL2Discrepancy({}), std::invalid_argument);
  EXPECT_THROW(CenteredL2Discrepancy({{0.1, 0.2}, {0.3}}), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------------------
// The scene's conditions section

// The example of docs/randomization.md, in a scene file with the other sections a scene has.
const char* const kSceneYaml = R"(name: tabletop_conditions
robot:
  urdf: robots/panda.urdf
randomization:
  physics:
    objects.cube.lateral_friction: {uniform: [0.1, 0.3]}
  conditions:
    sampler: SAMPLER
    axes:
      light_lux: {log_uniform: [100, 3000]}
      light_color_temperature_k: {uniform: [2700, 6500]}
      table_material: {categorical: {wood: 0.5, laminate: 0.3, steel: 0.2}}
      cube_position_m: {uniform: {min: [-0.2, -0.2], max: [0.2, 0.2]}}
      camera_yaw_jitter_deg: {truncated_normal: {mean: 0, std: 1, min: -3, max: 3}}
    edge_cases:
      - {name: dim_light, weight: 0.15, set: {light_lux: {uniform: [20, 80]}}}
      - {name: glare, weight: 0.05, set: {light_lux: {constant: 20000}, light_color_temperature_k: {constant: 6500}}}
      - {name: steel_only, weight: 0.0, set: {table_material: {categorical: {steel: 1}}}}
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("test: '" + from + "' not in the text");
  return text.replace(at, from.size(), to);
}

class ConditionSpaceTest : public ::testing::Test {
 protected:
  ConditionSpace Parse(const std::string& yaml) {
    const auto path = dir_ / ("scene_" + std::to_string(files_++) + ".yaml");
    testing::WriteTextFile(path, yaml);
    return ParseConditionSpace(path);
  }
  ConditionSpace Example(const std::string& sampler = "sobol") {
    return Parse(Replace(kSceneYaml, "SAMPLER", sampler));
  }

  testing::TempDir dir_;
  int files_ = 0;
};

void ExpectSameDraws(const std::vector<ConditionDraw>& a, const std::vector<ConditionDraw>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("draw " + std::to_string(i));
    EXPECT_EQ(a[i].variant, b[i].variant);
    EXPECT_EQ(a[i].edge_case, b[i].edge_case);
    EXPECT_EQ(a[i].unit_point, b[i].unit_point);
    ASSERT_EQ(a[i].values.size(), b[i].values.size());
    for (const auto& [name, value] : a[i].values) {
      ASSERT_TRUE(b[i].values.count(name)) << name;
      EXPECT_EQ(value, b[i].values.at(name)) << name;  // bit for bit
    }
  }
}

TEST_F(ConditionSpaceTest, ParsesTheExampleSection) {
  const ConditionSpace space = Example();
  EXPECT_EQ(space.sampler, ConditionSampler::kSobol);
  ASSERT_EQ(space.axes.size(), 5u);
  EXPECT_EQ(space.axes[0].name, "light_lux");
  EXPECT_EQ(space.axes[3].name, "cube_position_m");
  EXPECT_EQ(space.axes[3].first_coordinate, 3);
  EXPECT_EQ(space.axes[4].first_coordinate, 5);
  EXPECT_EQ(space.dimension(), 6);
  ASSERT_EQ(space.edge_cases.size(), 3u);
  EXPECT_EQ(space.edge_cases[1].name, "glare");
  EXPECT_EQ(space.edge_cases[1].set.size(), 2u);
  EXPECT_NEAR(space.edge_weight(), 0.2, 1e-12);
  EXPECT_NE(space.axes[0].source.find(":10: randomization.conditions.axes.light_lux"), std::string::npos)
      << space.axes[0].source;
  EXPECT_EQ(Example("stratified").sampler, ConditionSampler::kStratified);
  EXPECT_EQ(Example("iid").sampler, ConditionSampler::kIid);
  // Sampler defaults to sobol.
  EXPECT_EQ(Parse(Replace(kSceneYaml, "    sampler: SAMPLER\n", "")).sampler, ConditionSampler::kSobol);
}

TEST_F(ConditionSpaceTest, TheDocumentedExampleParsesAndItsErrorsReadAsDocumented) {
  std::ifstream in(testing::SourceDir() / "docs" / "randomization.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t section = doc.find("## Condition coverage");
  ASSERT_NE(section, std::string::npos);
  const std::size_t begin = doc.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const std::size_t end = doc.find("```", begin + 8);
  const std::string example = doc.substr(begin + 8, end - begin - 8);
  const ConditionSpace space = Parse(example);
  EXPECT_EQ(space.axes.size(), 5u);
  EXPECT_EQ(space.dimension(), 6);
  EXPECT_EQ(space.edge_cases.size(), 2u);

  const std::vector<std::pair<std::string, std::string>> documented = {
      {"weight: 0.05", "weight: 0.9"}, {"set: {light_lux: {uniform", "set: {light: {uniform"}};
  for (const auto& [from, to] : documented) {
    const auto path = dir_ / "scene.yaml";
    testing::WriteTextFile(path, Replace(example, from, to));
    try {
      ParseConditionSpace(path);
      ADD_FAILURE() << "no error for " << to;
    } catch (const InputError& e) {
      std::string message = e.what();
      message.replace(0, path.string().size(), "scene.yaml");
      // The documented line is the message up to its "...".
      const std::size_t at = doc.find(message.substr(0, 60));
      ASSERT_NE(at, std::string::npos) << message;
      std::string documented_line = doc.substr(at, doc.find('\n', at) - at);
      documented_line = documented_line.substr(0, documented_line.find("..."));
      EXPECT_EQ(message.rfind(documented_line, 0), 0u) << message << "\n" << documented_line;
    }
  }
}

TEST_F(ConditionSpaceTest, AbsentSectionIsAnEmptySpace) {
  EXPECT_TRUE(Parse("name: x\n").empty());
  EXPECT_TRUE(Parse("name: x\nrandomization:\n  physics: {}\n").empty());
  // panda_sysid declares no conditions; the tabletop's deployment map parses, every axis and edge case of it.
  EXPECT_TRUE(ParseConditionSpace(testing::SourceDir() / "scenes/panda_sysid/scene.yaml").empty());
  const ConditionSpace tabletop = ParseConditionSpace(testing::SourceDir() / "scenes/tabletop/scene.yaml");
  EXPECT_EQ(tabletop.axes.size(), 5u);
  EXPECT_EQ(tabletop.dimension(), 6);  // cube_position_m takes two coordinates
  EXPECT_EQ(tabletop.edge_cases.size(), 2u);
  EXPECT_NEAR(tabletop.edge_weight(), 0.2, 1e-12);
  const std::vector<ConditionDraw> draws = DrawConditions(ConditionSpace{}, 1, 0, 5, 3);
  ASSERT_EQ(draws.size(), 3u);
  EXPECT_EQ(draws[0].variant, 5u);
  EXPECT_TRUE(draws[0].values.empty());
}

TEST_F(ConditionSpaceTest, DrawsAreIndependentOfShardSplitAndThreads) {
  for (const char* sampler : {"sobol", "stratified", "iid"}) {
    SCOPED_TRACE(sampler);
    const ConditionSpace space = Example(sampler);
    const std::vector<ConditionDraw> all = DrawConditions(space, 42, 3, 0, 100, 100);
    std::vector<ConditionDraw> split = DrawConditions(space, 42, 3, 0, 37, 100);
    const std::vector<ConditionDraw> rest = DrawConditions(space, 42, 3, 37, 63, 100);
    split.insert(split.end(), rest.begin(), rest.end());
    ExpectSameDraws(all, split);

    std::vector<std::vector<ConditionDraw>> parts(4);
    std::vector<std::thread> threads;
    for (std::uint32_t t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] { parts[t] = DrawConditions(space, 42, 3, t * 25, 25, 100); });
    }
    for (auto& thread : threads) thread.join();
    std::vector<ConditionDraw> threaded;
    for (const auto& part : parts) threaded.insert(threaded.end(), part.begin(), part.end());
    ExpectSameDraws(all, threaded);

    // The seed and the episode change the draws.
    EXPECT_NE(DrawConditions(space, 43, 3, 0, 1, 100)[0].unit_point, all[0].unit_point);
    EXPECT_NE(DrawConditions(space, 42, 4, 0, 1, 100)[0].unit_point, all[0].unit_point);
  }
  // The stratified sampler needs K and stays inside it.
  EXPECT_THROW(DrawConditions(Example("stratified"), 1, 0, 0, 10), std::invalid_argument);
  EXPECT_THROW(DrawConditions(Example("stratified"), 1, 0, 95, 10, 100), std::invalid_argument);
}

TEST_F(ConditionSpaceTest, WithoutEdgeCasesTheUnitPointIsSobolPointV) {
  const ConditionSpace space = Parse(R"(randomization:
  conditions:
    axes:
      a: {uniform: [0, 1]}
      b: {uniform: [10, 20]}
)");
  const std::vector<ConditionDraw> draws = DrawConditions(space, 9, 2, 0, 64);
  const ScrambledSobol sobol(2, StreamKey{9, 2, 0, StreamId("conditions/nominal")});
  for (const ConditionDraw& draw : draws) {
    EXPECT_EQ(draw.unit_point, sobol.Point(draw.variant));
    EXPECT_DOUBLE_EQ(draw.values.at("b")[0], 10 + 10 * draw.unit_point[1]);
  }
}

TEST_F(ConditionSpaceTest, EdgeCaseFractionsMatchTheirWeights) {
  for (const char* sampler : {"sobol", "stratified", "iid"}) {
    SCOPED_TRACE(sampler);
    const ConditionSpace space = Example(sampler);
    const std::vector<ConditionDraw> draws = DrawConditions(space, 5, 1, 0, 1000, 1000);
    std::map<std::string, int> counts;
    for (const ConditionDraw& draw : draws) ++counts[draw.edge_case];
    EXPECT_NEAR(counts["dim_light"], 150, 2);
    EXPECT_NEAR(counts["glare"], 50, 2);
    EXPECT_EQ(counts["steel_only"], 0);
    EXPECT_NEAR(counts[""], 800, 1);

    // Any run of 100 consecutive variants (a shard) holds its share as well.
    for (std::size_t start = 0; start + 100 <= draws.size(); start += 13) {
      int dim = 0, glare = 0;
      for (std::size_t k = start; k < start + 100; ++k) {
        dim += draws[k].edge_case == "dim_light";
        glare += draws[k].edge_case == "glare";
      }
      EXPECT_NEAR(dim, 15, 2) << "variants from " << start;
      EXPECT_NEAR(glare, 5, 2) << "variants from " << start;
    }

    std::map<std::string, std::vector<double>> lux_by_case;
    std::vector<int> material_counts(3, 0);
    for (const ConditionDraw& draw : draws) {
      const double lux = draw.values.at("light_lux")[0];
      const double kelvin = draw.values.at("light_color_temperature_k")[0];
      lux_by_case[draw.edge_case].push_back(lux);
      if (draw.edge_case == "dim_light") {
        EXPECT_GE(lux, 20);
        EXPECT_LE(lux, 80);
      } else if (draw.edge_case == "glare") {
        EXPECT_EQ(lux, 20000);
        EXPECT_EQ(kelvin, 6500);
      } else {
        EXPECT_GE(lux, 100);
        EXPECT_LE(lux, 3000);
      }
      if (draw.edge_case != "glare") {
        EXPECT_GE(kelvin, 2700);
        EXPECT_LE(kelvin, 6500);
      }
      const Eigen::VectorXd& cube = draw.values.at("cube_position_m");
      ASSERT_EQ(cube.size(), 2);
      EXPECT_LE(cube.cwiseAbs().maxCoeff(), 0.2);
      EXPECT_LE(std::abs(draw.values.at("camera_yaw_jitter_deg")[0]), 3);
      ++material_counts.at(static_cast<std::size_t>(draw.values.at("table_material")[0]));
    }
    EXPECT_NEAR(material_counts[0], 500, 30);
    EXPECT_NEAR(material_counts[1], 300, 30);
    EXPECT_NEAR(material_counts[2], 200, 30);

    // Each stratum has its own well-spread sequence: the dim_light variants cover [20, 80] evenly.
    std::vector<int> bins(10, 0);
    for (double lux : lux_by_case["dim_light"]) ++bins[std::min(9, static_cast<int>((lux - 20) / 6))];
    for (int b : bins) EXPECT_NEAR(b, 15, std::string(sampler) == "iid" ? 12 : 2) << "dim_light lux bin";
  }
}

TEST_F(ConditionSpaceTest, EdgeCaseOverrideOfACategoricalAxisKeepsTheAxisLabels) {
  const ConditionSpace space = Parse(R"(randomization:
  conditions:
    axes:
      table_material: {categorical: {wood: 0.5, laminate: 0.3, steel: 0.2}}
    edge_cases:
      - {name: shiny, weight: 0.5, set: {table_material: {categorical: {steel: 0.9, laminate: 0.1}}}}
)");
  int steel = 0, shiny = 0;
  for (const ConditionDraw& draw : DrawConditions(space, 1, 0, 0, 200)) {
    if (draw.edge_case != "shiny") continue;
    ++shiny;
    const double material = draw.values.at("table_material")[0];
    EXPECT_TRUE(material == 1 || material == 2) << material;  // laminate or steel in the axis's labels
    steel += material == 2;
  }
  EXPECT_EQ(shiny, 100);
  EXPECT_NEAR(steel, 90, 3);
}

TEST_F(ConditionSpaceTest, SobolCoversMorePairwiseBinsThanIid) {
  const std::string yaml = R"(randomization:
  conditions:
    sampler: SAMPLER
    axes:
      a: {uniform: [0, 1]}
      b: {log_uniform: [1, 100]}
      c: {normal: {mean: 0, std: 1}}
      d: {uniform: {min: [-1, -1], max: [1, 1]}}
)";
  const ConditionSpace sobol = Parse(Replace(yaml, "SAMPLER", "sobol"));
  const ConditionSpace iid = Parse(Replace(yaml, "SAMPLER", "iid"));
  const double sobol_fraction = SummarizeCoverage(sobol, DrawConditions(sobol, 1, 0, 0, 200)).mean_pair_fraction;
  double iid_fraction = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    iid_fraction += SummarizeCoverage(iid, DrawConditions(iid, seed, 0, 0, 200)).mean_pair_fraction / 4;
  }
  // 200 i.i.d. draws hit about 1 - e^-2 = 86 % of 100 equiprobable cells; bins here are equal-width.
  EXPECT_GT(sobol_fraction, iid_fraction + 0.03) << "sobol " << sobol_fraction << ", iid " << iid_fraction;
  std::cout << "mean fraction of 10x10 pairwise bins hit by 200 draws: sobol " << sobol_fraction << ", iid "
            << iid_fraction << "\n";
}

// ---------------------------------------------------------------------------------------------------------------
// The coverage report

std::vector<std::string> ReadLines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(ConditionSpaceTest, CoverageReportFilesAgreeWithTheSummary) {
  const ConditionSpace space = Example();
  const std::vector<ConditionDraw> draws = DrawConditions(space, 2, 0, 0, 300);
  const CoverageSummary summary = SummarizeCoverage(space, draws);
  const auto report = dir_ / "report" / "batch_0";
  WriteCoverageReport(space, draws, report);
  EXPECT_EQ(testing::ListFiles(report), (std::vector<std::string>{"coverage.json", "draws.csv"}));

  std::ifstream in(report / "coverage.json");
  const nlohmann::json json = nlohmann::json::parse(in);
  EXPECT_EQ(json["sampler"], "sobol");
  EXPECT_EQ(json["draws"], 300);
  EXPECT_EQ(json["unit_dimension"], 6);
  EXPECT_DOUBLE_EQ(json["centered_l2_discrepancy"].get<double>(), summary.centered_l2_discrepancy);
  EXPECT_GT(summary.centered_l2_discrepancy, 0);
  EXPECT_DOUBLE_EQ(json["mean_pair_fraction"].get<double>(), summary.mean_pair_fraction);

  // Histograms: one per coordinate (cube_position_m has two), counts summing to the draws.
  ASSERT_EQ(json["axes"].size(), 6u);
  ASSERT_EQ(summary.histograms.size(), 6u);
  for (std::size_t i = 0; i < summary.histograms.size(); ++i) {
    const CoordinateHistogram& h = summary.histograms[i];
    const auto& axis = json["axes"][i];
    EXPECT_EQ(axis["coordinate"], h.name);
    EXPECT_EQ(axis["counts"].get<std::vector<std::size_t>>(), h.counts);
    std::size_t total = h.below + h.above;
    for (std::size_t c : h.counts) total += c;
    EXPECT_EQ(total, 300u) << h.name;
  }
  EXPECT_EQ(summary.histograms[3].name, "cube_position_m[0]");
  EXPECT_EQ(json["axes"][0]["lo"].get<double>(), 100);
  EXPECT_EQ(json["axes"][0]["hi"].get<double>(), 3000);
  EXPECT_EQ(json["axes"][5]["lo"].get<double>(), -3);  // the truncated normal's bounds
  EXPECT_EQ(json["axes"][0]["bin_edges"].size(), 11u);
  // Edge cases push light_lux out of the nominal support: dim light below, glare above.
  EXPECT_EQ(summary.histograms[0].below, summary.edge_cases[1].count);
  EXPECT_EQ(summary.histograms[0].above, summary.edge_cases[2].count);
  EXPECT_EQ(json["axes"][2]["labels"], (nlohmann::json{"wood", "laminate", "steel"}));
  EXPECT_EQ(summary.histograms[2].counts.size(), 3u);

  ASSERT_EQ(json["edge_cases"].size(), 4u);
  EXPECT_EQ(json["edge_cases"][0]["name"], "");
  EXPECT_EQ(json["edge_cases"][1]["name"], "dim_light");
  EXPECT_EQ(json["edge_cases"][1]["count"], summary.edge_cases[1].count);
  EXPECT_NEAR(summary.edge_cases[1].count, 45, 2);
  EXPECT_DOUBLE_EQ(json["edge_cases"][2]["target_weight"].get<double>(), 0.05);

  // 6 coordinates: 15 pairs; categorical x numeric has 3 x 10 bins.
  ASSERT_EQ(json["pairs"].size(), 15u);
  ASSERT_EQ(summary.pairs.size(), 15u);
  for (std::size_t i = 0; i < summary.pairs.size(); ++i) {
    EXPECT_EQ(json["pairs"][i]["a"], summary.pairs[i].a);
    EXPECT_EQ(json["pairs"][i]["bins_hit"], summary.pairs[i].bins_hit);
    EXPECT_DOUBLE_EQ(json["pairs"][i]["fraction"].get<double>(), summary.pairs[i].fraction);
    EXPECT_GT(summary.pairs[i].fraction, 0.5);
  }
  EXPECT_EQ(summary.pairs[1].bins, 30u);  // light_lux x table_material

  const std::vector<std::string> lines = ReadLines(report / "draws.csv");
  ASSERT_EQ(lines.size(), 301u);
  EXPECT_EQ(lines[0],
            "variant,edge_case,light_lux,light_color_temperature_k,table_material,cube_position_m[0],"
            "cube_position_m[1],camera_yaw_jitter_deg");
  for (std::size_t k = 1; k < lines.size(); ++k) {
    std::vector<std::string> fields;
    std::stringstream row(lines[k]);
    for (std::string field; std::getline(row, field, ',');) fields.push_back(field);
    ASSERT_EQ(fields.size(), 8u) << lines[k];
    const ConditionDraw& draw = draws[k - 1];
    EXPECT_EQ(fields[0], std::to_string(draw.variant));
    EXPECT_EQ(fields[1], draw.edge_case);
    EXPECT_EQ(std::stod(fields[2]), draw.values.at("light_lux")[0]);  // round-trip precision
    EXPECT_EQ(fields[4],
              space.axes[2].distribution.labels().at(static_cast<std::size_t>(draw.values.at("table_material")[0])));
  }

  // Rewriting replaces the files whole.
  WriteCoverageReport(space, std::vector<ConditionDraw>(draws.begin(), draws.begin() + 10), report);
  EXPECT_EQ(ReadLines(report / "draws.csv").size(), 11u);
  EXPECT_EQ(testing::ListFiles(report), (std::vector<std::string>{"coverage.json", "draws.csv"}));
}

TEST_F(ConditionSpaceTest, SummaryRefusesDrawsOfAnotherSpace) {
  const ConditionSpace space = Example();
  std::vector<ConditionDraw> draws = DrawConditions(space, 2, 0, 0, 3);
  draws[1].values.erase("light_lux");
  EXPECT_THROW(SummarizeCoverage(space, draws), std::invalid_argument);
}

// ---------------------------------------------------------------------------------------------------------------
// Bad input names the file, the line and the key

struct BadYamlCase {
  const char* name;
  const char* from;     // text of the example replaced ...
  const char* to;       // ... by this
  const char* at_line;  // the error's line is the line of the example holding this text (after replacement)
  const char* key;      // the field names this key path
  const char* problem;  // and the problem says this
};

const BadYamlCase kBadYaml[] = {
    {"unknown sampler", "sampler: SAMPLER", "sampler: halton", "sampler: halton", "randomization.conditions.sampler",
     "unknown sampler 'halton'"},
    {"unknown key", "    axes:", "    axis:", "axis:", "randomization.conditions.axis", "unknown key 'axis'"},
    {"weight above 1", "weight: 0.05", "weight: 1.5", "weight: 1.5", "randomization.conditions.edge_cases[1].weight",
     "weight 1.5 outside [0, 1]"},
    {"negative weight", "weight: 0.15", "weight: -0.1", "weight: -0.1", "randomization.conditions.edge_cases[0].weight",
     "outside [0, 1]"},
    {"weights sum above 1", "weight: 0.05", "weight: 0.9", "weight: 0.9",
     "randomization.conditions.edge_cases[1].weight", "sum to 1.05"},
    {"set names an unknown axis", "set: {light_lux: {uniform: [20, 80]}}", "set: {light: {uniform: [20, 80]}}",
     "set: {light:", "randomization.conditions.edge_cases[0].set.light", "unknown axis 'light'"},
    {"dimension mismatch", "set: {light_lux: {uniform: [20, 80]}}", "set: {cube_position_m: {uniform: [0, 0.1]}}",
     "set: {cube_position_m:", "randomization.conditions.edge_cases[0].set.cube_position_m",
     "has dimension 2, but the edge case's distribution"},
    {"numeric override of a categorical axis", "set: {light_lux: {uniform: [20, 80]}}",
     "set: {table_material: {uniform: [0, 1]}}",
     "set: {table_material:", "randomization.conditions.edge_cases[0].set.table_material", "is categorical"},
    {"unknown label", "{categorical: {steel: 1}}", "{categorical: {marble: 1}}", "marble",
     "randomization.conditions.edge_cases[2].set.table_material", "label 'marble' is not one of"},
    {"duplicate edge case", "name: glare", "name: dim_light", "name: dim_light, weight: 0.05",
     "randomization.conditions.edge_cases[1].name", "duplicate edge case name 'dim_light'"},
    {"missing weight", "weight: 0.05, ", "", "name: glare", "randomization.conditions.edge_cases[1].weight",
     "missing required key 'weight'"},
    {"scale form on an axis", "light_lux: {log_uniform: [100, 3000]}", "light_lux: {scale: {uniform: [0.9, 1.1]}}",
     "light_lux: {scale", "randomization.conditions.axes.light_lux", "nominal"},
    {"bad distribution", "{uniform: [2700, 6500]}", "{uniform: [6500, 2700]}", "[6500, 2700]",
     "randomization.conditions.axes.light_color_temperature_k", "min 6500 is greater than max 2700"},
    {"edge case setting nothing", "set: {light_lux: {uniform: [20, 80]}}", "set: {}", "set: {}",
     "randomization.conditions.edge_cases[0].set", "must set at least one axis"},
};

TEST_F(ConditionSpaceTest, BadInputNamesFileLineAndKey) {
  for (const BadYamlCase& c : kBadYaml) {
    SCOPED_TRACE(c.name);
    std::string yaml = Replace(kSceneYaml, c.from, c.to);
    if (yaml.find("SAMPLER") != std::string::npos) yaml = Replace(yaml, "SAMPLER", "sobol");
    const std::size_t at = yaml.find(c.at_line);
    ASSERT_NE(at, std::string::npos) << c.at_line;
    const int line = 1 + static_cast<int>(std::count(yaml.begin(), yaml.begin() + static_cast<long>(at), '\n'));
    const auto path = dir_ / ("bad_" + std::to_string(files_++) + ".yaml");
    testing::WriteTextFile(path, yaml);
    try {
      ParseConditionSpace(path);
      ADD_FAILURE() << "no error";
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), path.string());
      EXPECT_EQ(e.field().rfind("line " + std::to_string(line) + ": ", 0), 0u) << e.field();
      EXPECT_NE(e.field().find(c.key), std::string::npos) << e.field();
      EXPECT_NE(e.problem().find(c.problem), std::string::npos) << e.problem();
    }
  }
}

TEST_F(ConditionSpaceTest, MalformedYamlNamesTheLine) {
  const auto path = dir_ / "malformed.yaml";
  testing::WriteTextFile(path, "randomization:\n  conditions:\n    axes: {a: [1, 2\n");
  try {
    ParseConditionSpace(path);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), path.string());
    EXPECT_NE(e.field().find("line"), std::string::npos) << e.field();
  }
}

}  // namespace
}  // namespace r2s::randomize
