// The physical parameter vocabulary (sim/parameter_name.h) and its two appliers: the params.yaml overlay on a scene
// before compiling, and SetModelParameter on a compiled Model (what a generator does per variant). Both must land
// the same value in the same place.

#include "sim/parameter_name.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "sim/params_overlay.h"
#include "sim/scene_compiler.h"
#include "tests/test_support.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;
using r2s::testing::WriteTextFile;

TEST(ParameterName, ParsesEveryGroupAndNamesWhatIsWrong) {
  const auto joint = ParseParameterName("robot.panda_joint1.coulomb_friction");
  ASSERT_TRUE(joint);
  EXPECT_EQ(joint->group, ParameterGroup::kJoint);
  EXPECT_EQ(joint->target, "panda_joint1");
  EXPECT_EQ(JointParameterFields()[joint->field_index], "coulomb_friction");
  const auto link = ParseParameterName("robot.panda.link3.iyz_kgm2");  // the middle may hold dots
  ASSERT_TRUE(link);
  EXPECT_EQ(link->group, ParameterGroup::kLink);
  EXPECT_EQ(link->target, "panda.link3");
  const auto object = ParseParameterName("objects.cube.restitution");
  ASSERT_TRUE(object);
  EXPECT_EQ(object->group, ParameterGroup::kObject);

  std::string why;
  EXPECT_FALSE(ParseParameterName("robot.panda_joint1.stiffness", &why));
  EXPECT_NE(why.find("unknown robot parameter 'stiffness'"), std::string::npos) << why;
  EXPECT_FALSE(ParseParameterName("objects.cube.colour", &why));
  EXPECT_NE(why.find("unknown object parameter 'colour'"), std::string::npos) << why;
  EXPECT_FALSE(ParseParameterName("world.gravity", &why));
  EXPECT_NE(why.find("is not a parameter name"), std::string::npos) << why;

  EXPECT_EQ(ParameterValueProblem(*ParseParameterName("objects.cube.restitution"), 1.5), "must be <= 1, found 1.5");
  EXPECT_EQ(ParameterValueProblem(*ParseParameterName("objects.cube.mass_kg"), 0), "must be > 0, found 0");
  EXPECT_EQ(ParameterValueProblem(*ParseParameterName("robot.j.kp"), -1), "must be >= 0, found -1");
  EXPECT_EQ(ParameterValueProblem(*ParseParameterName("robot.l.ixy_kgm2"), -0.1), "");  // products may be negative
  EXPECT_EQ(ParameterValueProblem(*ParseParameterName("robot.j.position_offset"), -0.05), "");  // either sign
  EXPECT_EQ(ParameterValueProblem(*ParseParameterName("robot.j.position_offset"), std::nan("")),
            "must be finite, found nan");
  EXPECT_EQ(ParameterValueProblem(*ParseParameterName("robot.l.izz_kgm2"), -0.1),
            "is a moment of inertia: must be >= 0, found -0.1");
}

// Every kind of parameter, set both ways on the tabletop scene: the overlaid-then-compiled Model and the
// compiled-then-set Model agree field by field, and nothing else changes.
TEST(SetModelParameter, EqualsTheParamsOverlayCompiled) {
  TempDir dir;
  const fs::path params = dir / "params.yaml";
  WriteTextFile(params, R"(format: real2sim.params/1
parameters:
  - {name: robot.panda_joint2.coulomb_friction, estimate: 0.7}
  - {name: robot.panda_joint4.kp, estimate: 321}
  - {name: robot.panda_joint2.position_offset, estimate: -0.02}
  - {name: robot.panda_link3.mass_kg, estimate: 2.5}
  - {name: robot.panda_link5.com_y_m, estimate: 0.02}
  - {name: robot.panda_link5.ixz_kgm2, estimate: 0.001}
  - {name: objects.cube.lateral_friction, estimate: 0.31}
  - {name: objects.cube.restitution, estimate: 0.4}
  - {name: objects.ball.mass_kg, estimate: 0.09}
)");
  const auto overlaid = LoadScene(SourceDir() / "scenes/tabletop", params);
  const auto nominal = LoadScene(SourceDir() / "scenes/tabletop");
  Model set = *nominal;
  for (const ParameterEstimate& e : ReadParams(params).parameters) {
    SetModelParameter(set, *ParseParameterName(e.name), e.estimate);
  }
  const RobotModel& a = *overlaid->robot;
  const RobotModel& b = *set.robot;
  for (int d = 0; d < a.num_dofs(); ++d) {
    EXPECT_EQ(a.actuators[d].kp, b.actuators[d].kp) << d;
    EXPECT_EQ(a.actuators[d].coulomb_friction, b.actuators[d].coulomb_friction) << d;
  }
  EXPECT_EQ(b.actuators[b.FindDof("panda_joint4")].kp, 321);
  // The encoder offset: on the robot, and folded into the position bindings the same way.
  EXPECT_EQ(a.position_offset, b.position_offset);
  EXPECT_EQ(b.position_offset[b.FindDof("panda_joint2")], -0.02);
  ASSERT_EQ(overlaid->joint_bindings.size(), set.joint_bindings.size());
  for (std::size_t i = 0; i < set.joint_bindings.size(); ++i) {
    EXPECT_EQ(overlaid->joint_bindings[i].factor, set.joint_bindings[i].factor) << set.joint_bindings[i].source;
    EXPECT_EQ(overlaid->joint_bindings[i].offset, set.joint_bindings[i].offset) << set.joint_bindings[i].source;
  }
  EXPECT_EQ(set.joint_bindings[0].signal, JointSignal::kPosition);
  EXPECT_EQ(set.joint_bindings[0].offset[1], -0.02);  // observation.state[1] is panda_joint2
  for (std::size_t l = 0; l < a.links.size(); ++l) {
    EXPECT_DOUBLE_EQ(a.links[l].inertial.mass_kg, b.links[l].inertial.mass_kg) << a.links[l].name;
    EXPECT_TRUE(a.links[l].inertial.com_m.isApprox(b.links[l].inertial.com_m)) << a.links[l].name;
    EXPECT_TRUE(a.links[l].inertial.inertia_kgm2.isApprox(b.links[l].inertial.inertia_kgm2, 1e-12))
        << a.links[l].name;
  }
  for (std::size_t o = 0; o < overlaid->objects.size(); ++o) {
    const ObjectModel& x = overlaid->objects[o];
    const ObjectModel& y = set.objects[o];
    EXPECT_EQ(x.material, y.material) << x.name;
    EXPECT_DOUBLE_EQ(x.inertial.mass_kg, y.inertial.mass_kg) << x.name;
    EXPECT_TRUE(x.inertial.inertia_kgm2.isApprox(y.inertial.inertia_kgm2, 1e-12)) << x.name;
    const Material& mx = overlaid->MaterialOf(x.material);
    const Material& my = set.MaterialOf(y.material);
    EXPECT_EQ(mx.lateral_friction, my.lateral_friction) << x.name;
    EXPECT_EQ(mx.restitution, my.restitution) << x.name;
    EXPECT_EQ(mx.rolling_friction, my.rolling_friction) << x.name;
    for (const Shape& s : y.collisions) EXPECT_EQ(s.material, y.material) << x.name;
  }
  EXPECT_EQ(set.objects[set.FindObject("cube")].material, "objects/cube");
  EXPECT_EQ(set.MaterialOf("objects/cube").lateral_friction, 0.31);
  EXPECT_EQ(set.MaterialOf("acrylic").lateral_friction, 0.18);  // the shared material is untouched
  // ModelParameter reads back what was set.
  for (const ParameterEstimate& e : ReadParams(params).parameters) {
    EXPECT_DOUBLE_EQ(ModelParameter(set, *ParseParameterName(e.name)), e.estimate) << e.name;
  }
  EXPECT_DOUBLE_EQ(ModelParameter(*nominal, *ParseParameterName("objects.cube.lateral_friction")), 0.18);
}

TEST(SetModelParameter, UnknownTargetsAndBadValuesNameTheParameter) {
  Model model = *LoadScene(SourceDir() / "scenes/tabletop");
  const auto message = [&](const std::string& name, double value) {
    try {
      SetModelParameter(model, *ParseParameterName(name), value);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(message("robot.panda_joint9.kp", 1), "'robot.panda_joint9.kp': the robot has no movable joint 'panda_joint9'");
  EXPECT_EQ(message("robot.panda_link99.mass_kg", 1), "'robot.panda_link99.mass_kg': the robot has no link 'panda_link99'");
  EXPECT_EQ(message("objects.mug.restitution", 0.1), "'objects.mug.restitution': the scene has no free object 'mug'");
  EXPECT_EQ(message("objects.cube.lateral_friction", -0.1), "'objects.cube.lateral_friction' must be >= 0, found -0.1");
}

}  // namespace
}  // namespace r2s::sim
