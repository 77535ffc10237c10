// Distributions and the physics randomization section as scene files write them: every form parses, `posterior`
// reads a real params.yaml, and malformed input is an InputError naming the file, the line and the key.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "episode/input_error.h"
#include "randomize/distribution_yaml.h"
#include "sim/params_overlay.h"
#include "sim/yaml_values.h"
#include "randomize/stream.h"
#include "sysid/fit_result.h"
#include "sysid/identify.h"
#include "sysid/uncertainty.h"
#include "test_support.h"

namespace r2s::randomize {
namespace {

using Kind = Distribution::Kind;
using r2s::testing::TempDir;
using r2s::testing::WriteTextFile;

constexpr const char* kParams = R"(format: real2sim.params/1
scene: panda_sysid
parameters:
  - {name: robot.panda_joint1.coulomb_friction, estimate: 0.5, std: 0.05, lower: 0.0, upper: 5.0}
  - {name: robot.panda_joint1.viscous_friction, estimate: 0.2, std: 0.02, lower: 0.0, upper: .inf}
  - {name: robot.panda_joint2.damping, estimate: 0.1, std: 0.01, lower: 0.0, upper: 1.0}
  - {name: robot.panda_joint3.armature, estimate: 0.3, std: 0.1, lower: 0.0, upper: 1.0, identified: false}
covariance:
  names: [robot.panda_joint1.coulomb_friction, robot.panda_joint1.viscous_friction]
  matrix: [[0.0025, -0.0008], [-0.0008, 0.0004]]
)";

// A minimal scene whose randomization.physics section is `physics` (indented by the caller to 4 spaces); the
// section starts on line 4.
std::string Scene(const std::string& physics) {
  return "name: t\nrobot: {urdf: robot.urdf}\nrandomization:\n  physics:\n" + physics;
}

class PhysicsYamlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteTextFile(dir_ / "params.yaml", kParams);
    params_ = sim::ReadParams(dir_ / "params.yaml");
  }
  PhysicsRandomization Parse(const std::string& physics, bool with_params = true) {
    WriteTextFile(dir_ / "scene.yaml", Scene(physics));
    return ParsePhysicsRandomization(dir_ / "scene.yaml", with_params ? &params_ : nullptr, dir_ / "params.yaml");
  }
  TempDir dir_;
  sim::ParamsFile params_;
};

TEST_F(PhysicsYamlTest, EveryFormParses) {
  const PhysicsRandomization p = Parse(
      "    objects.cube.lateral_friction: {uniform: [0.4, 0.9]}\n"                               // line 5
      "    objects.cube.restitution: 0.3\n"                                                      // 6
      "    objects.cube.rolling_friction: {log_uniform: [1e-4, 1e-2]}\n"                         // 7
      "    objects.cube.spinning_friction: {constant: 0.001}\n"                                  // 8
      "    robot.panda_joint4.kp: {normal: {mean: 600, std: 20}}\n"                              // 9
      "    robot.panda_joint4.kd: {truncated_normal: {mean: 50, std: 5, min: 40, max: .inf}}\n"  // 10
      "    objects.cube.mass_kg: {scale: {uniform: [0.9, 1.1]}}\n"                               // 11
      "    robot.panda_link3.mass_kg: {offset: {normal: {mean: 0, std: 0.1}}}\n"                 // 12
      "    gains:\n"                                                                             // 13
      "      parameters: [robot.panda_joint5.kp, robot.panda_joint5.kd]\n"
      "      distribution:\n"
      "        multivariate_normal:\n"
      "          mean: [250, 30]\n"
      "          covariance: [[100, 5], [5, 4]]\n"
      "          min: [200, 20]\n"
      "          max: [300, .inf]\n"
      "    limits:\n"  // 21
      "      parameters: [robot.panda_joint6.effort_limit, robot.panda_joint6.velocity_limit]\n"
      "      distribution: {uniform: {min: [10, 1], max: [12, 2]}}\n");
  ASSERT_EQ(p.entries.size(), 10u);
  const std::vector<Kind> kinds = {Kind::kUniform,  Kind::kConstant, Kind::kLogUniform,
                                   Kind::kConstant, Kind::kNormal,   Kind::kTruncatedNormal,
                                   Kind::kScale,    Kind::kOffset,   Kind::kTruncatedMultivariateNormal,
                                   Kind::kUniform};
  for (std::size_t i = 0; i < kinds.size(); ++i) EXPECT_EQ(p.entries[i].distribution.kind(), kinds[i]) << i;
  EXPECT_EQ(p.entries[0].distribution.Describe(), "uniform [0.4, 0.9]");
  EXPECT_EQ(p.entries[0].parameters, std::vector<std::string>{"objects.cube.lateral_friction"});
  EXPECT_EQ(p.entries[0].source,
            (dir_ / "scene.yaml").string() + ":5: randomization.physics.objects.cube.lateral_friction");
  EXPECT_EQ(p.entries[5].distribution.hi()[0], std::numeric_limits<double>::infinity());
  EXPECT_EQ(p.entries[6].distribution.inner()->Describe(), "uniform [0.9, 1.1]");
  const Distribution& mvn = p.entries[8].distribution;
  EXPECT_EQ(p.entries[8].parameters, (std::vector<std::string>{"robot.panda_joint5.kp", "robot.panda_joint5.kd"}));
  EXPECT_EQ(mvn.covariance()(0, 1), 5);
  EXPECT_EQ(mvn.lo()[1], 20);
  EXPECT_EQ(p.entries[8].source, (dir_ / "scene.yaml").string() + ":13: randomization.physics.gains");
  EXPECT_EQ(p.entries[9].distribution.dimension(), 2);
  // Draws land inside the declared ranges.
  Stream s(1, 0, 0, "physics");
  for (int i = 0; i < 1000; ++i) {
    const double f = p.entries[0].distribution.Sample(s)[0];
    ASSERT_TRUE(f >= 0.4 && f <= 0.9) << f;
    const Eigen::VectorXd g = mvn.Sample(s);
    ASSERT_TRUE(g[0] >= 200 && g[0] <= 300 && g[1] >= 20) << g.transpose();
  }
}

TEST_F(PhysicsYamlTest, PosteriorReadsEstimatesStdAndCovarianceFromParams) {
  const PhysicsRandomization p = Parse(
      "    robot.panda_joint2.damping: posterior\n"
      "    joint1_friction:\n"
      "      parameters: [robot.panda_joint1.coulomb_friction, robot.panda_joint1.viscous_friction]\n"
      "      distribution: posterior\n");
  ASSERT_EQ(p.entries.size(), 2u);
  const Distribution& single = p.entries[0].distribution;
  EXPECT_EQ(single.kind(), Kind::kTruncatedNormal);
  EXPECT_EQ(single.mean()[0], 0.1);
  EXPECT_EQ(single.lo()[0], 0.0);
  EXPECT_EQ(single.hi()[0], 1.0);
  EXPECT_NE(single.Describe().find("std 0.01"), std::string::npos) << single.Describe();
  const Distribution& joint = p.entries[1].distribution;
  ASSERT_EQ(joint.kind(), Kind::kTruncatedMultivariateNormal);
  EXPECT_EQ(joint.mean(), Eigen::Vector2d(0.5, 0.2));
  EXPECT_EQ(joint.covariance()(0, 1), -0.0008);
  EXPECT_EQ(joint.covariance()(1, 1), 0.0004);
  EXPECT_EQ(joint.lo(), Eigen::Vector2d(0, 0));
  EXPECT_EQ(joint.hi()[1], std::numeric_limits<double>::infinity());

  // A group partly outside the covariance block: uncorrelated, with each parameter's own std.
  const PhysicsRandomization q = Parse(
      "    g:\n"
      "      parameters: [robot.panda_joint1.coulomb_friction, robot.panda_joint2.damping]\n"
      "      distribution: posterior\n");
  const Eigen::MatrixXd& c = q.entries[0].distribution.covariance();
  EXPECT_DOUBLE_EQ(c(0, 0), 0.0025);
  EXPECT_DOUBLE_EQ(c(1, 1), 0.0001);
  EXPECT_EQ(c(0, 1), 0);
}

TEST_F(PhysicsYamlTest, AbsentSectionsGiveNoEntries) {
  WriteTextFile(dir_ / "plain.yaml", "name: t\nrobot: {urdf: robot.urdf}\n");
  EXPECT_TRUE(ParsePhysicsRandomization(dir_ / "plain.yaml", nullptr).entries.empty());
  WriteTextFile(dir_ / "conditions_only.yaml", "name: t\nrandomization:\n  conditions: {}\n");
  EXPECT_TRUE(ParsePhysicsRandomization(dir_ / "conditions_only.yaml", nullptr).entries.empty());
  // The bundled scenes read without error.
  for (const char* scene : {"scenes/tabletop/scene.yaml", "scenes/panda_sysid/scene.yaml"}) {
    EXPECT_NO_THROW(ParsePhysicsRandomization(r2s::testing::SourceDir() / scene, nullptr)) << scene;
  }
}

struct BadCase {
  const char* name;
  std::string physics;  // lines under `physics:`, starting on line 5
  bool with_params;
  std::string field;    // expected InputError::field()
  std::string problem;  // expected to occur in InputError::problem()
};

const std::string kEntry = "randomization.physics.objects.cube.mass_kg";

std::vector<BadCase> BadCases() {
  return {
      {"unknown form", "    objects.cube.mass_kg: {unifrom: [1, 2]}\n", true, "line 5: " + kEntry + ".unifrom",
       "unknown key 'unifrom' (did you mean 'uniform'?)"},
      {"two forms", "    objects.cube.mass_kg: {uniform: [1, 2], normal: {mean: 1, std: 1}}\n", true,
       "line 5: " + kEntry, "exactly one distribution form, found 2"},
      {"lo > hi", "    objects.cube.mass_kg: {uniform: [0.9, 0.4]}\n", true, "line 5: " + kEntry + ".uniform",
       "min 0.9 is greater than max 0.4"},
      {"lo > hi, map form", "    objects.cube.mass_kg:\n      uniform:\n        min: [1, 3]\n        max: [2, 2]\n",
       true, "line 6: " + kEntry + ".uniform", "min 3 is greater than max 2 (coordinate 1)"},
      {"uniform not a pair", "    objects.cube.mass_kg: {uniform: [1, 2, 3]}\n", true, "line 5: " + kEntry + ".uniform",
       "expected [min, max], found a list of 3"},
      {"log_uniform from zero", "    objects.cube.mass_kg: {log_uniform: [0, 1]}\n", true,
       "line 5: " + kEntry + ".log_uniform", "min 0 must be > 0"},
      {"negative std", "    objects.cube.mass_kg:\n      normal: {mean: 1, std: -0.1}\n", true,
       "line 6: " + kEntry + ".normal", "std -0.1 must be >= 0"},
      {"missing std", "    objects.cube.mass_kg: {normal: {mean: 1}}\n", true, "line 5: " + kEntry + ".normal.std",
       "missing required key 'std'"},
      {"truncated normal without mass",
       "    objects.cube.mass_kg: {truncated_normal: {mean: 0, std: 1, min: 50, max: 60}}\n", true,
       "line 5: " + kEntry + ".truncated_normal", "holds no probability"},
      {"NaN", "    objects.cube.mass_kg: {uniform: [.nan, 1]}\n", true, "line 5: " + kEntry + ".uniform[0]",
       "expected a finite number, found '.nan'"},
      {"NaN bound", "    objects.cube.mass_kg: {truncated_normal: {mean: 0, std: 1, min: .nan}}\n", true,
       "line 5: " + kEntry + ".truncated_normal.min", "expected a number or .inf"},
      {"not a number", "    objects.cube.mass_kg: {constant: heavy}\n", true, "line 5: " + kEntry + ".constant",
       "expected a number, found 'heavy'"},
      {"covariance not symmetric",
       "    g:\n      parameters: [objects.a.mass_kg, objects.b.mass_kg]\n      distribution:\n"
       "        multivariate_normal: {mean: [1, 1], covariance: [[1, 0.5], [0.4, 1]]}\n",
       true, "line 8: randomization.physics.g.distribution.multivariate_normal", "not symmetric"},
      {"covariance not PSD",
       "    g:\n      parameters: [objects.a.mass_kg, objects.b.mass_kg]\n      distribution:\n"
       "        multivariate_normal: {mean: [1, 1], covariance: [[1, 2], [2, 1]]}\n",
       true, "line 8: randomization.physics.g.distribution.multivariate_normal", "not positive definite"},
      {"covariance wrong size",
       "    g:\n      parameters: [objects.a.mass_kg, objects.b.mass_kg]\n      distribution:\n"
       "        multivariate_normal: {mean: [1, 1], covariance: [[1, 0], [0, 1], [0, 0]]}\n",
       true, "line 8: randomization.physics.g.distribution.multivariate_normal.covariance",
       "expected 2 rows (the mean has 2 values), found 3"},
      {"covariance row wrong size",
       "    g:\n      parameters: [objects.a.mass_kg, objects.b.mass_kg]\n      distribution:\n"
       "        multivariate_normal:\n          mean: [1, 1]\n          covariance: [[1, 0], [0, 1, 0]]\n",
       true, "line 10: randomization.physics.g.distribution.multivariate_normal.covariance[1]",
       "expected a list of 2 numbers, found 3"},
      {"bounds wrong size",
       "    g:\n      parameters: [objects.a.mass_kg, objects.b.mass_kg]\n      distribution:\n"
       "        multivariate_normal: {mean: [1, 1], covariance: [[1, 0], [0, 1]], min: [0, 0, 0]}\n",
       true, "line 8: randomization.physics.g.distribution.multivariate_normal.min",
       "expected 2 values (the mean has 2), found 3"},
      {"group dimension",
       "    g:\n      parameters: [objects.a.mass_kg, objects.b.mass_kg]\n      distribution: {uniform: [1, 2]}\n",
       true, "line 7: randomization.physics.g.distribution", "draws 1 values for 2 parameters"},
      {"single parameter, 2-D", "    objects.cube.mass_kg: {constant: [1, 2]}\n", true, "line 5: " + kEntry,
       "draws 2 values for 1 parameter"},
      {"categorical physics", "    objects.cube.mass_kg: {categorical: {light: 1, heavy: 2}}\n", true,
       "line 5: " + kEntry, "categorical draws labels"},
      {"posterior absent from params", "    objects.cube.mass_kg: posterior\n", true, "line 5: " + kEntry,
       "has no such parameter"},
      {"posterior unidentified", "    robot.panda_joint3.armature: posterior\n", true,
       "line 5: randomization.physics.robot.panda_joint3.armature", "identified: false"},
      {"posterior without params", "    robot.panda_joint2.damping: posterior\n", false,
       "line 5: randomization.physics.robot.panda_joint2.damping", "needs a params.yaml"},
      {"posterior nested", "    robot.panda_joint2.damping: {scale: posterior}\n", true,
       "line 5: randomization.physics.robot.panda_joint2.damping.scale", "only for physics parameters"},
      {"unknown parameter field", "    objects.cube.mass: {uniform: [1, 2]}\n", true,
       "line 5: randomization.physics.objects.cube.mass", "is not a physics parameter"},
      {"unknown parameter group", "    lights.key.lux: {uniform: [1, 2]}\n", true,
       "line 5: randomization.physics.lights.key.lux", "is not a physics parameter"},
      {"randomized twice",
       "    objects.cube.mass_kg: {uniform: [1, 2]}\n    g:\n      parameters: [objects.cube.mass_kg]\n"
       "      distribution: {uniform: [1, 2]}\n",
       true, "line 7: randomization.physics.g.parameters[0]", "'objects.cube.mass_kg' is randomized twice"},
      {"group unknown key", "    g:\n      parameters: [objects.a.mass_kg]\n      distrbution: {uniform: [1, 2]}\n",
       true, "line 7: randomization.physics.g.distrbution", "did you mean 'distribution'?"},
      {"not a map", "    - objects.cube.mass_kg\n", true, "line 4: randomization.physics", "expected a map"},
  };
}

TEST_F(PhysicsYamlTest, MalformedEntriesNameFileLineAndKey) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.name);
    try {
      Parse(c.physics, c.with_params);
      ADD_FAILURE() << "no error for:\n" << c.physics;
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), (dir_ / "scene.yaml").string());
      EXPECT_EQ(e.field(), c.field) << e.what();
      EXPECT_NE(e.problem().find(c.problem), std::string::npos) << e.what();
      if (std::string(c.name).starts_with("posterior absent")) {
        EXPECT_NE(e.problem().find((dir_ / "params.yaml").string()), std::string::npos) << e.what();
      }
    }
  }
}

// ParseDistribution on its own, as the condition-coverage axes use it.
TEST(ParseDistributionTest, CategoricalAndOtherFormsOutsideThePhysicsSection) {
  TempDir dir;
  WriteTextFile(dir / "axes.yaml",
                "floor: {categorical: {wood: 0.5, laminate: 0.3, steel: 0.2}}\n"
                "lux: {log_uniform: [50, 2000]}\n"
                "bad_weight: {categorical: {wood: 0.5, steel: 0}}\n"
                "bad_weight2: {categorical: {wood: -1}}\n"
                "empty: {categorical: {}}\n"
                "posterior: posterior\n");
  const sim::yaml::Reader r(dir / "axes.yaml");
  const YAML::Node root = sim::yaml::LoadFile(dir / "axes.yaml");
  const sim::yaml::Map m(r, sim::yaml::Value{root, "", 1}, {});
  const auto get = [&](const std::string& key) { return *m.Get(key); };
  const Distribution floor = ParseDistribution(r, get("floor"));
  EXPECT_EQ(floor.labels(), (std::vector<std::string>{"wood", "laminate", "steel"}));
  EXPECT_EQ(floor.weights(), (std::vector<double>{0.5, 0.3, 0.2}));
  EXPECT_EQ(ParseDistribution(r, get("lux")).Describe(), "log_uniform [50, 2000]");
  struct Bad {
    const char* key;
    std::string field, problem;
  };
  for (const Bad& b :
       {Bad{"bad_weight", "line 3: bad_weight.categorical.steel", "weight of 'steel' must be > 0, found 0"},
        Bad{"bad_weight2", "line 4: bad_weight2.categorical.wood", "must be > 0, found -1"},
        Bad{"empty", "line 5: empty.categorical", "at least one label"},
        Bad{"posterior", "line 6: posterior", "only for physics parameters"}}) {
    try {
      ParseDistribution(r, get(b.key));
      ADD_FAILURE() << b.key;
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), (dir / "axes.yaml").string());
      EXPECT_EQ(e.field(), b.field) << e.what();
      EXPECT_NE(e.problem().find(b.problem), std::string::npos) << e.what();
    }
  }
}

// kd + viscous_friction identified only as a sum (sysid's RecordIdentifiedSum, through a real params.yaml written and
// read back): draws of the pair keep the sum's fitted mean and std while each part spreads along the unseen
// direction. Synthetic fit values, built in code.
TEST(IdentifiedSumPosterior, DrawsKeepTheSumWhileEachPartSpreads) {
  sysid::FitResult fit;
  fit.problem = sysid::Problem::kActuators;
  sysid::FitParameter kd, viscous, kp;
  kd.name = "robot.panda_joint1.kd";
  kd.nominal = kd.estimate = 5;
  kd.lower = 0;
  kd.upper = 50;
  kd.identified = false;
  kd.why_not_identified = "with no velocity reference ...: held at its nominal value";
  viscous.name = "robot.panda_joint1.viscous_friction";
  viscous.estimate = 7;  // carries the sum 12
  viscous.std_dev = 0.1;
  viscous.lower = 0;
  viscous.upper = 20;
  kp.name = "robot.panda_joint1.kp";
  kp.estimate = 300;
  kp.std_dev = 4;
  kp.lower = 10;
  kp.upper = 1000;
  fit.parameters = {kp, kd, viscous};
  fit.covariance_names = {kp.name, viscous.name};
  fit.covariance = (Eigen::Matrix2d() << 16, 0.2, 0.2, 0.01).finished();
  sysid::RecordIdentifiedSum(fit, kd.name, viscous.name);
  ASSERT_EQ(fit.parameters[1].sum_of.size(), 2u);
  EXPECT_DOUBLE_EQ(fit.parameters[1].sum_estimate, 12);
  EXPECT_DOUBLE_EQ(fit.parameters[2].sum_std_dev, 0.1);
  EXPECT_FALSE(fit.parameters[1].identified);
  EXPECT_NE(fit.parameters[1].why_not_identified.find("robot.panda_joint1.kd + robot.panda_joint1.viscous_friction = 12 +- 0.1"),
            std::string::npos)
      << fit.parameters[1].why_not_identified;

  sysid::SysidRun run;
  run.scene_name = "panda_sysid";
  run.results = {fit};
  const TempDir dir;
  sim::WriteParams(sysid::ToParamsFile(run), dir / "params.yaml");
  const sim::ParamsFile params = sim::ReadParams(dir / "params.yaml");
  const PhysicsRandomization drawn = WithPosterior(PhysicsRandomization{}, params, dir / "params.yaml", nullptr);
  ASSERT_EQ(drawn.entries.size(), 1u);
  const auto& names = drawn.entries[0].parameters;
  ASSERT_EQ(names.size(), 3u);  // kp, viscous_friction and kd, jointly
  const auto index = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
  const auto ikd = index(kd.name), iv = index(viscous.name), ikp = index(kp.name);
  ASSERT_LT(ikd, 3);
  Stream stream(11, 0, 0, "identified_sum");
  constexpr int kDraws = 20000;
  double sum = 0, sum2 = 0, kd_sum = 0, kd_sum2 = 0, kp_sum_cov = 0, kp_mean = 0;
  std::vector<Eigen::VectorXd> draws;
  for (int i = 0; i < kDraws; ++i) draws.push_back(drawn.entries[0].distribution.Sample(stream));
  for (const auto& x : draws) {
    const double s = x[ikd] + x[iv];
    sum += s;
    sum2 += s * s;
    kd_sum += x[ikd];
    kd_sum2 += x[ikd] * x[ikd];
    kp_mean += x[ikp];
  }
  const double mean = sum / kDraws, std_dev = std::sqrt(sum2 / kDraws - mean * mean);
  const double kd_mean = kd_sum / kDraws, kd_std = std::sqrt(kd_sum2 / kDraws - kd_mean * kd_mean);
  kp_mean /= kDraws;
  for (const auto& x : draws) kp_sum_cov += (x[ikp] - kp_mean) * (x[ikd] + x[iv] - mean);
  kp_sum_cov /= kDraws;
  EXPECT_NEAR(mean, 12, 0.005);           // 5 standard errors of the mean
  EXPECT_NEAR(std_dev, 0.1, 0.005);       // the sum keeps its fitted std
  EXPECT_NEAR(kp_sum_cov, 0.2, 0.03);     // and its covariance with kp
  EXPECT_GT(kd_std, 10 * std_dev);        // while kd spreads (a third of its room: 5 / 3)
  EXPECT_NEAR(kd_mean, 5, 0.1);
}

}  // namespace
}  // namespace r2s::randomize
