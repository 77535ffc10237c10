// Actuator identification on data in other units than SI: the real XL330 pendulum log rewritten in degrees, with
// the joint mirrored (sign: -1) and its encoder zero moved (offset), against a scene whose bindings say so, must
// give the estimates of the SI log. The conversion lives in the bindings (sim/model.h JointBinding), not in sysid.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "episode/dataset_reader.h"
#include "sim/scene_compiler.h"
#include "sysid/actuator_fit.h"
#include "tests/test_support.h"

namespace r2s::sysid {
namespace {

namespace fs = std::filesystem;

fs::path PendulumScene() { return testing::SourceDir() / "scenes/xl330_pendulum"; }
fs::path Kp400() { return PendulumScene() / "episodes/kp400"; }

ProblemInput Input(const fs::path& scene, const episode::Episode& episode) {
  ProblemInput input;
  input.model = sim::LoadScene(scene);
  const episode::DatasetReader reader = episode::DatasetReader::Open(Kp400());
  input.plan = sim::ReplayPlan::Make(input.model, reader.info(), Kp400().string());
  input.episodes.push_back(episode);
  input.dataset_file = Kp400().string();
  input.scene_file = input.model->scene_file.string();
  return input;
}

TEST(ActuatorFitUnits, QuickFitOfARealLogInDegreesEqualsTheSiFit) {
  constexpr double kOffsetRad = 0.2;  // the degree log's zero lies 0.2 rad from the joint's
  testing::TempDir dir;
  fs::copy(PendulumScene(), dir.path(), fs::copy_options::recursive);
  std::ifstream in(dir / "scene.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  in.close();
  for (const char* feature : {"action[0:1]", "observation.state[0:1]", "observation.velocity[0:1]"}) {
    const auto at = text.find("\n", text.find("joints:", text.find(feature))) + 1;
    const bool position = std::string(feature) != "observation.velocity[0:1]";
    text.insert(at, std::string("      units: deg\n      sign: -1\n") + (position ? "      offset: 0.2\n" : ""));
  }
  testing::WriteTextFile(dir / "scene.yaml", text);

  // Synthetic: the real log rewritten in degrees, raw = -(si - 0.2) 180 / pi, and its SI twin read back from
  // those degrees by the documented convention, si = sign * (pi / 180) * raw + offset. Degrees to radians and back
  // is not the identity in floating point, and a quick fit's path feels the last bit; reading both from the same
  // degrees keeps the comparison exact.
  const episode::DatasetReader reader = episode::DatasetReader::Open(Kp400());
  episode::Episode degrees = reader.ReadEpisode(2);
  episode::Episode si = degrees;
  for (const char* feature : {"action", "observation.state", "observation.velocity"}) {
    const double offset = std::string(feature) != "observation.velocity" ? kOffsetRad : 0.0;
    auto raw = degrees.columns.at(feature).data.mutable_values<double>();
    auto twin = si.columns.at(feature).data.mutable_values<double>();
    for (std::size_t i = 0; i < raw.size(); ++i) {
      raw[i] = -(raw[i] - offset) * 180 / M_PI;
      twin[i] = -1.0 * (M_PI / 180) * raw[i] + offset;
    }
  }

  ActuatorFitOptions options;
  options.common.quick = true;
  const FitResult a = FitActuators(Input(PendulumScene(), si), options);
  const FitResult b = FitActuators(Input(dir.path(), degrees), options);
  ASSERT_EQ(a.parameters.size(), b.parameters.size());
  for (std::size_t i = 0; i < a.parameters.size(); ++i) {
    const FitParameter& x = a.parameters[i];
    const FitParameter& y = b.parameters[i];
    EXPECT_EQ(x.name, y.name);
    EXPECT_NEAR(y.estimate, x.estimate, 1e-12 * (1 + std::abs(x.estimate))) << x.name;
    EXPECT_EQ(y.identified, x.identified) << x.name;
  }
  ASSERT_EQ(a.held_out.size(), b.held_out.size());
  EXPECT_NEAR(b.held_out[0].rms, a.held_out[0].rms, 1e-12);  // residuals in rad, whatever the log's units
  EXPECT_GT(std::abs(degrees.At("observation.state").data.values<double>()[0]), 5.0);  // degrees, not radians
}

}  // namespace
}  // namespace r2s::sysid
