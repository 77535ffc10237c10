// The public API's options structs check themselves: the defaults are valid, and a misconfigured field is refused
// by IsValid with a reason naming the struct, the field and the value (never a command-line flag), the same
// reason Validate() throws.

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "amplify/generate_run.h"
#include "amplify/generator.h"
#include "episode/dataset_writer.h"
#include "episode/video/encode_options.h"
#include "sim/replay.h"
#include "sysid/actuator_fit.h"
#include "sysid/identify.h"
#include "sysid/joint_dynamics.h"
#include "sysid/object_fit.h"

namespace r2s {
namespace {

// One struct: its defaults must be valid; `spoil` breaks one field, which `why` must name.
template <typename Options>
void ExpectRefusedByField(const std::function<void(Options&)>& spoil, const std::string& field_and_value) {
  Options options;
  if constexpr (requires { options.out; }) options.out = "out";  // RunOptions has no default folder
  std::string why = "unchanged";
  EXPECT_TRUE(options.IsValid(&why)) << why;
  EXPECT_EQ(why, "unchanged") << "a valid options struct must leave why alone";
  spoil(options);
  ASSERT_FALSE(options.IsValid(&why)) << "refused nothing; expected " << field_and_value;
  EXPECT_NE(why.find(field_and_value), std::string::npos) << why;
  EXPECT_EQ(why.find("--"), std::string::npos) << "a library option is named by field, not flag: " << why;
  EXPECT_FALSE(options.IsValid());  // why may be omitted
  if constexpr (requires { options.Validate(); }) {
    try {
      options.Validate();
      ADD_FAILURE() << "Validate() passed what IsValid refused: " << why;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), why);
    }
  }
}

TEST(OptionsValidity, EveryPublicOptionsStructNamesTheFieldItRefuses) {
  ExpectRefusedByField<episode::video::EncodeOptions>([](auto& o) { o.crf = 99; },
                                                      "video::EncodeOptions::crf = 99");
  ExpectRefusedByField<episode::WriteOptions>([](auto& o) { o.image_deflate_level = 12; },
                                              "WriteOptions::image_deflate_level = 12");
  ExpectRefusedByField<episode::WriteOptions>([](auto& o) { o.video.keyframe_interval = 0; },
                                              "EncodeOptions::keyframe_interval = 0");
  ExpectRefusedByField<amplify::RunOptions>([](auto& o) { o.out.clear(); }, "RunOptions::out is empty");
  ExpectRefusedByField<amplify::RunOptions>([](auto& o) { o.write.video.preset = 14; },
                                            "RunOptions::write: video::EncodeOptions::preset = 14");
  ExpectRefusedByField<amplify::GeneratorOptions>([](auto& o) { o.variants = 0; }, "GeneratorOptions::variants");
  ExpectRefusedByField<sim::ReplayOptions>([](auto& o) { o.threads = 0; }, "ReplayOptions::threads = 0");
  ExpectRefusedByField<sysid::JointDynamicsOptions>([](auto& o) { o.fit_rate_hz = 0; },
                                                    "JointDynamicsOptions::fit_rate_hz = 0");
  ExpectRefusedByField<sysid::ObjectFitOptions>([](auto& o) { o.common.held_out_fraction = 1.5; },
                                                "ObjectFitOptions::common.held_out_fraction = 1.5");
  ExpectRefusedByField<sysid::ActuatorFitOptions>([](auto& o) { o.starts = 0; },
                                                  "ActuatorFitOptions::starts = 0, expected at least 1");
  ExpectRefusedByField<sysid::ActuatorFitOptions>([](auto& o) { o.bounds["kp"] = {2.0, 1.0}; },
                                                  "ActuatorFitOptions::bounds['kp'] = [2, 1]");
  ExpectRefusedByField<sysid::SysidOptions>([](auto& o) { o.max_episodes = -3; }, "SysidOptions::max_episodes = -3");
  ExpectRefusedByField<sysid::SysidOptions>([](auto& o) { o.actuators.passes = 0; },
                                            "SysidOptions::actuators: ActuatorFitOptions::passes = 0");
}

}  // namespace
}  // namespace r2s
