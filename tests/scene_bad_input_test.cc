// Bad scene files and params files, one table row each: loading must throw InputError naming the file, the line
// and the key path at fault, with a message that says what is wrong (the value included).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "episode/input_error.h"
#include "sim/params_overlay.h"
#include "sim/scene_compiler.h"
#include "tests/test_support.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;
using r2s::testing::WriteTextFile;

void CopyPanda(const fs::path& scene_dir) {
  fs::copy(SourceDir() / "scenes/panda_sysid/robot", scene_dir / "robot", fs::copy_options::recursive);
}

// Line numbers below count from "name: bad" as line 1.
const std::string kRobot = R"(name: bad
robot:
  urdf: robot/panda.urdf
  initial_q: {panda_joint4: -1.0}
  actuators:
    default: {kp: 60, kd: 5}
  bindings:
    - {feature: "observation.state[0:2]", signal: position, joints: [panda_joint1, panda_joint2]}
)";

const std::string kCube = R"(name: bad
objects:
  - name: cube
    shape: {box: [0.1, 0.1, 0.1]}
    mass_kg: 0.5
)";

// Replaces the first occurrence of `from` in `text` (which must be there).
std::string Edit(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("test edit: '" + from + "' not found");
  return text.replace(at, from.size(), to);
}

struct BadScene {
  std::string name;
  std::string yaml;
  int line;             // expected line
  std::string key;      // expected key path
  std::string problem;  // a piece of the message
  bool panda = false;   // copy the Panda into the scene folder
  std::function<void(const fs::path& scene_dir, const fs::path& outside)> setup = nullptr;
};

void PrintTo(const BadScene& c, std::ostream* os) { *os << c.name; }

std::vector<BadScene> Cases() {
  return {
      {"MalformedYaml", "name: bad\nsimulation: {time_step_s: 0.001\nobjects: []\n", 3, "", "malformed YAML"},
      {"UnknownTopLevelKey", "name: bad\nobjectz: []\n", 2, "objectz",
       "unknown key 'objectz' (did you mean 'objects'?)"},
      {"MisspelledRandomizationSection", "name: bad\nrandomization:\n  conditons: {}\n", 3, "randomization.conditons",
       "unknown key 'conditons'"},
      {"UnknownNestedKey", Edit(kCube, "mass_kg:", "mass_kgg:"), 5, "objects[0].mass_kgg",
       "unknown key 'mass_kgg' (did you mean 'mass_kg'?)"},
      {"UnknownSimulationKey", "name: bad\nsimulation:\n  time_step: 0.001\n", 3, "simulation.time_step",
       "did you mean 'time_step_s'"},
      {"UnknownRenderingKey", "name: bad\nrendering:\n  shadow_map_pxx: 512\n", 3, "rendering.shadow_map_pxx",
       "did you mean 'shadow_map_px'"},
      {"BadShadowCasters", "name: bad\nrendering:\n  shadows: true\n  shadow_casters: mesh\n", 4,
       "rendering.shadow_casters", "'mesh' is not a kind of shadow caster (visual or collision)"},
      {"ShadowsNotBoolean", "name: bad\nrendering: {shadows: sometimes}\n", 2, "rendering.shadows",
       "expected true or false, found"},
      {"ShadowMapTooSmall", "name: bad\nrendering:\n  shadow_casters: visual\n  shadow_map_px: 8\n", 4,
       "rendering.shadow_map_px", "must lie in [16, 16384] pixels, found 8"},
      {"ShadowMapNotInteger", "name: bad\nrendering: {shadow_map_px: 512.5}\n", 2, "rendering.shadow_map_px",
       "expected an integer, found '512.5'"},
      {"DuplicateKey", kCube + "    mass_kg: 0.6\n", 6, "objects[0].mass_kg", "duplicate key"},
      {"StringWhereNumber", Edit(kCube, "mass_kg: 0.5", "mass_kg: heavy"), 5, "objects[0].mass_kg",
       "expected a number, found 'heavy'"},
      {"MapWhereList", "name: bad\nobjects: {name: cube}\n", 2, "objects", "expected a list, found a map"},
      {"ShortVector", Edit(kCube, "box: [0.1, 0.1, 0.1]", "box: [0.1, 0.1]"), 4, "objects[0].shape.box",
       "expected a list of 3 numbers, found 2"},
      {"MissingName", "simulation: {time_step_s: 0.01}\n", 1, "name", "missing required key 'name'"},
      {"MissingMass", Edit(kCube, "    mass_kg: 0.5\n", ""), 3, "objects[0].mass_kg", "missing required key 'mass_kg'"},
      {"MissingUrdfKey", "name: bad\nrobot:\n  control_mode: position\n", 2, "robot.urdf",
       "missing required key 'urdf'"},
      {"MissingUrdfFile", Edit(kRobot, "robot/panda.urdf", "robot/nope.urdf"), 3, "robot.urdf", "no such file", true},
      {"MissingMeshFile", Edit(kCube, "{box: [0.1, 0.1, 0.1]}", "{mesh: meshes/mug.obj}"), 4, "objects[0].shape.mesh",
       "'meshes/mug.obj': no such file"},
      {"UnknownJointInBinding",
       Edit(kRobot, "joints: [panda_joint1, panda_joint2]", "joints: [panda_joint1, panda_jointX]"), 8,
       "robot.bindings[0].joints[1]", "unknown joint 'panda_jointX'", true},
      {"FixedJointInBinding",
       Edit(kRobot, "joints: [panda_joint1, panda_joint2]", "joints: [panda_joint1, panda_joint8]"), 8,
       "robot.bindings[0].joints[1]", "joint 'panda_joint8' is fixed", true},
      {"SingularTransmission",
       kRobot + "  transmission:\n    - joints: [panda_joint6, panda_joint7]\n      coupling: [[1, 2], [0.5, 1]]\n",
       11, "robot.transmission[0].coupling", "is singular", true},
      {"TransmissionRowOfWrongLength",
       kRobot + "  transmission:\n    - joints: [panda_joint6, panda_joint7]\n      coupling:\n        - [1, 0]\n"
                "        - [0.5]\n",
       13, "robot.transmission[0].coupling[1]", "has 1 entries for 2 joints", true},
      {"TransmissionWithTooFewRows",
       kRobot + "  transmission:\n    - joints: [panda_joint6, panda_joint7]\n      coupling: [[1, 0]]\n", 11,
       "robot.transmission[0].coupling", "has 1 rows for 2 joints", true},
      {"JointInTwoTransmissionGroups",
       kRobot + "  transmission:\n    - joints: [panda_joint6, panda_joint7]\n      coupling: [[1, 0], [0.5, 1]]\n"
                "    - joints: [panda_joint5, panda_joint6]\n      coupling: [[1, 0], [0.5, 1]]\n",
       12, "robot.transmission[1].joints[1]", "already in", true},
      {"UnknownJointInTransmission",
       kRobot + "  transmission:\n    - joints: [panda_joint6, wrist]\n      coupling: [[1, 0], [0.5, 1]]\n", 10,
       "robot.transmission[0].joints[1]", "unknown joint 'wrist'", true},
      {"UnknownJointInBlockList",
       Edit(kRobot, "joints: [panda_joint1, panda_joint2]}",
            "joints: [panda_joint1, panda_joint2]}\n    - feature: action\n      signal: position_target\n      "
            "joints:\n        - panda_joint1\n        - panda_joint9"),
       13, "robot.bindings[1].joints[1]", "unknown joint 'panda_joint9'", true},
      {"UnknownJointInActuators", Edit(kRobot, "    default:", "    panda_joint77: {kp: 1}\n    default:"), 6,
       "robot.actuators.panda_joint77", "unknown joint 'panda_joint77'", true},
      {"UnknownJointInInitialQ", Edit(kRobot, "panda_joint4: -1.0", "panda_joint4: -1.0, wrist: 0.2"), 4,
       "robot.initial_q.wrist", "unknown joint 'wrist'", true},
      {"InitialQOutsideLimits", Edit(kRobot, "panda_joint4: -1.0", "panda_joint4: 1.0"), 4,
       "robot.initial_q.panda_joint4", "outside the joint's limits", true},
      {"SliceLengthDiffers", Edit(kRobot, "observation.state[0:2]", "observation.state[0:3]"), 8,
       "robot.bindings[0].feature", "holds 3 values but 2 joints are listed", true},
      {"MalformedSliceReversed", Edit(kRobot, "observation.state[0:2]", "observation.state[3:1]"), 8,
       "robot.bindings[0].feature", "'observation.state[3:1]' is not a feature reference", true},
      {"MalformedSliceText", Edit(kRobot, "observation.state[0:2]", "observation.state[0:2"), 8,
       "robot.bindings[0].feature", "is not a feature reference", true},
      {"UnknownSignal", Edit(kRobot, "signal: position", "signal: angle"), 8, "robot.bindings[0].signal",
       "'angle' is not a signal", true},
      {"UnknownControlMode", Edit(kRobot, "  actuators:", "  control_mode: impedance\n  actuators:"), 5,
       "robot.control_mode", "'impedance' is not a control mode", true},
      {"NegativeMass", Edit(kCube, "mass_kg: 0.5", "mass_kg: -0.5"), 5, "objects[0].mass_kg", "> 0, found -0.5"},
      {"ZeroMass", Edit(kCube, "mass_kg: 0.5", "mass_kg: 0"), 5, "objects[0].mass_kg", "> 0, found 0"},
      {"ZeroTimeStep", "name: bad\nsimulation:\n  solver_iterations: 10\n  time_step_s: 0\n", 4,
       "simulation.time_step_s", "> 0, found 0"},
      {"NegativeTimeStep", "name: bad\nsimulation: {time_step_s: -0.001}\n", 2, "simulation.time_step_s",
       "> 0, found -0.001"},
      {"NegativeGain", Edit(kRobot, "kp: 60", "kp: -60"), 6, "robot.actuators.default.kp", ">= 0, found -60", true},
      {"NegativeFriction", Edit(kRobot, "    default:", "    panda_joint2: {coulomb_friction: -0.1}\n    default:"), 6,
       "robot.actuators.panda_joint2.coulomb_friction", ">= 0, found -0.1", true},
      {"NegativeLatency", Edit(kRobot, "kd: 5}", "kd: 5, latency_s: -0.01}"), 6, "robot.actuators.default.latency_s",
       ">= 0, found -0.01", true},
      {"UrdfEscapesSceneFolder", Edit(kRobot, "robot/panda.urdf", "../panda.urdf"), 3, "robot.urdf",
       "outside the scene folder", true},
      {"AbsolutePathOutside", Edit(kRobot, "robot/panda.urdf", "/etc/hostname"), 3, "robot.urdf",
       "outside the scene folder", true},
      {"SymlinkResolvingOutside", Edit(kRobot, "robot/panda.urdf", "linked/panda.urdf"), 3, "robot.urdf",
       "outside the scene folder", false,
       [](const fs::path& scene_dir, const fs::path& outside) {
         CopyPanda(outside);
         fs::create_directory_symlink(outside / "robot", scene_dir / "linked");
       }},
      {"MeshEscapesSceneFolder", Edit(kCube, "{box: [0.1, 0.1, 0.1]}", "{mesh: ../../mesh.obj}"), 4,
       "objects[0].shape.mesh", "outside the scene folder"},
      {"TextureMissing", "name: bad\nmaterials:\n  wood: {texture: textures/wood.png}\n", 3, "materials.wood.texture",
       "no such file"},
      {"UnknownMaterial", kCube + "    material: unobtainium\n", 6, "objects[0].material",
       "unknown material 'unobtainium'"},
      {"FrictionOutOfRange", "name: bad\nmaterials:\n  ice: {lateral_friction: -1}\n", 3,
       "materials.ice.lateral_friction", ">= 0, found -1"},
      {"UnknownObjectInSuccess", kCube + "success:\n  - {object_above_height: {object: sphere, height_m: 0.9}}\n", 7,
       "success[0].object_above_height.object", "unknown object 'sphere'"},
      {"UnknownSuccessKind", kCube + "success:\n  - {object_stacked: {object: cube}}\n", 7, "success[0].object_stacked",
       "unknown key 'object_stacked'"},
      {"UnknownJointInSuccess", kRobot + "success:\n  - {joint_reached: {joint: elbow, target: 0, tolerance: 0.1}}\n",
       10, "success[0].joint_reached.joint", "unknown joint 'elbow'", true},
      {"NanNumber", Edit(kCube, "mass_kg: 0.5", "mass_kg: .nan"), 5, "objects[0].mass_kg",
       "expected a finite number, found '.nan'"},
      {"InfNumber", kCube + "    initial_pose: {position_m: [0, 0, .inf]}\n", 6,
       "objects[0].initial_pose.position_m[2]", "expected a finite number, found '.inf'"},
      {"ZeroQuaternion", kCube + "    initial_pose: {position_m: [0, 0, 1], quaternion_xyzw: [0, 0, 0, 0]}\n", 6,
       "objects[0].initial_pose.quaternion_xyzw", "is not a unit quaternion"},
      {"TwoOrientations", kCube + "    initial_pose: {rpy_rad: [0, 0, 0], quaternion_xyzw: [0, 0, 0, 1]}\n", 6,
       "objects[0].initial_pose", "not both"},
      {"CameraZeroResolution",
       "name: bad\ncameras:\n  - name: front\n    pose: {position_m: [1, 0, 1], look_at_m: [0, 0, 0]}\n"
       "    resolution: [0, 480]\n    fov_y_deg: 60\n",
       5, "cameras[0].resolution", "must be positive, found [0, 480]"},
      {"CameraTooLargeToRender",
       "name: bad\ncameras:\n  - name: front\n    pose: {position_m: [1, 0, 1], look_at_m: [0, 0, 0]}\n"
       "    resolution: [100000, 100000]\n    fov_y_deg: 60\n",
       5, "cameras[0].resolution", "must be at most 16384 pixels a side, found [100000, 100000]"},
      {"CameraNearNotBelowFar",
       "name: bad\ncameras:\n  - name: front\n    pose: {position_m: [1, 0, 1], look_at_m: [0, 0, 0]}\n"
       "    resolution: [640, 480]\n    fov_y_deg: 60\n    near_m: 2.0\n    far_m: 1.0\n",
       8, "cameras[0].far_m", "near_m 2 must be less than far_m 1"},
      {"CameraLookAtItself",
       "name: bad\ncameras:\n  - name: front\n    pose: {position_m: [1, 0, 1], look_at_m: [1, 0, 1]}\n"
       "    resolution: [640, 480]\n    fov_y_deg: 60\n",
       4, "cameras[0].pose.look_at_m", "is the camera's own position"},
      {"CameraWithoutIntrinsics",
       "name: bad\ncameras:\n  - name: front\n    pose: {position_m: [1, 0, 1], look_at_m: [0, 0, 0]}\n"
       "    resolution: [640, 480]\n",
       3, "cameras[0].intrinsics", "missing required key 'intrinsics'"},
      {"CameraOnUnknownLink",
       kRobot + "cameras:\n  - name: wrist\n    pose: {position_m: [0, 0, 0]}\n    attached_link: panda_wrist\n"
                "    resolution: [64, 48]\n    fov_y_deg: 60\n",
       12, "cameras[0].attached_link", "unknown link 'panda_wrist'", true},
      {"DuplicateObjectName", kCube + "  - {name: cube, shape: {sphere: 0.1}, mass_kg: 1}\n", 6, "objects[1].name",
       "duplicate body name 'cube'"},
      {"ExplicitInertiaNotPositive", kCube + "    inertia_kgm2: [0.001, -0.001, 0.001]\n", 6, "objects[0].inertia_kgm2",
       "is not positive definite"},
      {"PlaneAsFreeObject", Edit(kCube, "{box: [0.1, 0.1, 0.1]}", "{plane: [0, 0, 1]}"), 4, "objects[0].shape.plane",
       "only environment bodies can be planes"},
      {"PoseFeatureNotSeven", kCube + "    pose_feature: \"observation.object_pose[0:3]\"\n", 6,
       "objects[0].pose_feature", "must hold 7 values"},
      {"VelocityFeatureNotThree", kCube + "    linear_velocity_feature: \"observation.v[0:4]\"\n", 6,
       "objects[0].linear_velocity_feature", "must hold 3 values"},
      {"AngularVelocityFrameUnknown",
       kCube + "    angular_velocity_feature: \"observation.w\"\n    angular_velocity_frame: camera\n", 7,
       "objects[0].angular_velocity_frame", "'camera' is not world or body"},
      {"AngularVelocityFrameWithoutFeature", kCube + "    angular_velocity_frame: body\n", 6,
       "objects[0].angular_velocity_frame", "without an angular_velocity_feature"},
      {"EmptyFile", "", 1, "", "expected a map of scene keys"},
      // 1e-12 s would mean 1e12 steps per second of episode: a unit mistake, refused before any step.
      {"TimeStepTiny", "name: bad\nsimulation: {time_step_s: 1.0e-12}\n", 2, "simulation.time_step_s",
       "must lie in [1e-6, 0.1] s, found 1e-12"},
      {"TimeStepHuge", "name: bad\nsimulation: {time_step_s: 0.5}\n", 2, "simulation.time_step_s",
       "must lie in [1e-6, 0.1] s, found 0.5"},
      // Conversion fields of a binding (docs/scenes.md, "Units and conversions").
      {"BindingUnknownUnit", Edit(kRobot, "panda_joint2]}", "panda_joint2], units: furlong}"), 8,
       "robot.bindings[0].units", "'furlong' is not a unit of position for revolute joint 'panda_joint1'", true},
      {"BindingLengthUnitOnRevoluteJoint", Edit(kRobot, "panda_joint2]}", "panda_joint2], units: [deg, mm]}"), 8,
       "robot.bindings[0].units[1]", "'mm' is not a unit of position for revolute joint 'panda_joint2'", true},
      {"BindingZeroScale", Edit(kRobot, "panda_joint2]}", "panda_joint2], scale: 0}"), 8, "robot.bindings[0].scale",
       "must be a finite nonzero number, found 0", true},
      {"BindingScaleListTooLong", Edit(kRobot, "panda_joint2]}", "panda_joint2], scale: [1, 2, 3]}"), 8,
       "robot.bindings[0].scale", "has 3 values for 2 joints", true},
      {"BindingBadSign", Edit(kRobot, "panda_joint2]}", "panda_joint2], sign: [1, 2]}"), 8,
       "robot.bindings[0].sign[1]", "must be 1 or -1, found 2", true},
      {"BindingNegativeGearRatio", Edit(kRobot, "panda_joint2]}", "panda_joint2], gear_ratio: -3}"), 8,
       "robot.bindings[0].gear_ratio", "must be a finite number > 0", true},
      {"BindingNonFiniteOffset", Edit(kRobot, "panda_joint2]}", "panda_joint2], offset: .inf}"), 8,
       "robot.bindings[0].offset", "expected a finite number, found '.inf'", true},
      {"BindingTicksWithoutCount", Edit(kRobot, "panda_joint2]}", "panda_joint2], units: ticks}"), 8,
       "robot.bindings[0].units", "'ticks' needs ticks_per_revolution", true},
      {"BindingOffsetOnVelocity",
       Edit(kRobot, "signal: position, joints: [panda_joint1, panda_joint2]}",
            "signal: velocity, joints: [panda_joint1, panda_joint2], offset: 0.1}"),
       8, "robot.bindings[0].offset", "applies to position signals", true},
      {"BindingMissingCalibrationFile",
       Edit(kRobot, "panda_joint2]}", "panda_joint2], calibration: so101.json, normalization: range_m100_100}"), 8,
       "robot.bindings[0].calibration", "'so101.json': no such file", true},
      {"BindingCalibrationAndUnits",
       Edit(kRobot, "panda_joint2]}", "panda_joint2], units: deg, calibration: so101.json}"), 8,
       "robot.bindings[0].units", "give 'units' or 'calibration', not both", true},
      // Franka's gains on a 10 ms step: explicit PD would ring and diverge; the message gives the step that works.
      {"ExplicitPdUnstable", Edit(kRobot, "{kp: 60, kd: 5}", "{kp: 600, kd: 50}") + "simulation: {time_step_s: 0.01}\n",
       6, "robot.actuators.default.kd", "past what explicit PD integrates stably", true},
  };
}

class BadSceneTest : public ::testing::TestWithParam<BadScene> {};

TEST_P(BadSceneTest, NamesFileLineAndKey) {
  const BadScene& c = GetParam();
  TempDir dir, outside;
  if (c.panda) CopyPanda(dir.path());
  if (c.setup) c.setup(dir.path(), outside.path());
  const fs::path scene = dir / "scene.yaml";
  WriteTextFile(scene, c.yaml);
  try {
    LoadScene(dir.path());
    ADD_FAILURE() << "no InputError for:\n" << c.yaml;
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), scene.string()) << e.what();
    const std::string expected_field = "line " + std::to_string(c.line) + (c.key.empty() ? "" : ": " + c.key);
    EXPECT_EQ(e.field(), expected_field) << e.what();
    EXPECT_NE(std::string(e.what()).find(c.problem), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadSceneTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<BadScene>& info) { return info.param.name; });

TEST(BadSceneTest, MissingSceneFile) {
  TempDir dir;
  try {
    LoadScene(dir.path());
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), (dir / "scene.yaml").string());
    EXPECT_NE(std::string(e.what()).find("no such scene file"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------------------
// params.yaml

// A LeRobot calibration file the binding names: errors inside it name the calibration file and its line; a motor
// it lacks names the scene's line.
struct BadCalibration {
  std::string json;
  std::string file;   // "calibration" or "scene"
  std::string field;  // expected InputError field
  std::string problem;
};

TEST(BadSceneTest, BadLeRobotCalibrationNamesTheFileLineAndField) {
  const std::string scene_yaml = Edit(
      kRobot, "panda_joint2]}",
      "panda_joint2], calibration: calibration_SYNTHETIC.json, normalization: range_m100_100,\n"
      "       motors: [synthetic_a, synthetic_b]}");
  const std::string good_b = R"("synthetic_b": {"id": 2, "drive_mode": 0, "homing_offset": 0, "range_min": 0, "range_max": 4095})";
  const std::vector<BadCalibration> cases = {
      {"{\"synthetic_a\": {\"id\": 1,\n", "calibration", "line 2", "malformed JSON"},
      {"[1, 2]\n", "calibration", "line 1", "expected LeRobot's calibration"},
      {"{" + good_b + ",\n \"synthetic_a\": {\"id\": 1, \"drive_mode\": 0, \"homing_offset\": 0,\n"
       "   \"range_min\": 2000, \"range_max\": 2000}}\n",
       "calibration", "line 3: synthetic_a.range_max", "is empty"},
      {"{" + good_b + ",\n \"synthetic_a\": {\"id\": 1, \"drive_mode\": 2, \"homing_offset\": 0, \"range_min\": 0, "
       "\"range_max\": 10}}\n",
       "calibration", "line 2: synthetic_a.drive_mode", "must be 0 or 1, found 2"},
      {"{" + good_b + ",\n \"synthetic_a\": {\"id\": 1, \"homing_offset\": 0, \"range_min\": 0, \"range_max\": 10}}\n",
       "calibration", "line 2: synthetic_a.drive_mode", "missing required key 'drive_mode'"},
      {"{" + good_b + "}\n", "scene", "line 9: robot.bindings[0].motors[0]",
       "motor 'synthetic_a' is not in calibration_SYNTHETIC.json (motors: synthetic_b)"},
  };
  for (const BadCalibration& c : cases) {
    TempDir dir;
    CopyPanda(dir.path());
    WriteTextFile(dir / "scene.yaml", scene_yaml);
    WriteTextFile(dir / "calibration_SYNTHETIC.json", c.json);
    try {
      LoadScene(dir.path());
      ADD_FAILURE() << "no InputError for:\n" << c.json;
    } catch (const InputError& e) {
      const fs::path file = c.file == "scene" ? dir / "scene.yaml" : dir / "calibration_SYNTHETIC.json";
      EXPECT_EQ(fs::path(e.file()).filename(), file.filename()) << e.what();
      EXPECT_EQ(e.field(), c.field) << e.what();
      EXPECT_NE(std::string(e.what()).find(c.problem), std::string::npos) << e.what();
    }
  }
}

// A link whose inertia about its joint's axis params.yaml sets to zero: the stability check used to divide 0 by 0
// and print "-nan > 2 ... at most -nan". Under PD gains it names the joint and the inertia; without any explicit
// torque (torque control, no damping) there is nothing for it to check.
TEST(BadSceneTest, ZeroEffectiveInertiaNamesTheJointNotNaN) {
  TempDir dir;
  WriteTextFile(dir / "arm.urdf", R"(<robot name="arm">
  <link name="base"/>
  <link name="rotor">
    <inertial><mass value="1"/><inertia ixx="0.001" ixy="0" ixz="0" iyy="0.001" iyz="0" izz="0.001"/></inertial>
  </link>
  <joint name="hinge" type="revolute">
    <parent link="base"/><child link="rotor"/><axis xyz="0 0 1"/>
    <limit lower="-1" upper="1" effort="10" velocity="1"/>
  </joint>
</robot>
)");
  WriteTextFile(dir / "params.yaml", R"(format: real2sim.params/1
parameters:
  - {name: robot.rotor.ixx_kgm2, estimate: 0}
  - {name: robot.rotor.iyy_kgm2, estimate: 0}
  - {name: robot.rotor.izz_kgm2, estimate: 0}
)");
  WriteTextFile(dir / "scene.yaml", "name: bad\nrobot:\n  urdf: arm.urdf\n  actuators: {default: {kp: 10, kd: 1}}\n");
  try {
    LoadScene(dir.path(), dir / "params.yaml");
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(e.file(), (dir / "scene.yaml").string()) << message;
    EXPECT_EQ(e.field(), "line 3: robot.urdf") << message;
    EXPECT_NE(message.find("joint 'hinge' has an effective inertia of 0 kg m^2"), std::string::npos) << message;
    EXPECT_EQ(message.find("nan"), std::string::npos) << message;
  }
  WriteTextFile(dir / "scene.yaml", "name: fine\nrobot:\n  urdf: arm.urdf\n  control_mode: torque\n");
  EXPECT_NO_THROW(LoadScene(dir.path(), dir / "params.yaml"));
}

const std::string kParamsHead = "format: real2sim.params/1\nscene: panda_sysid\nparameters:\n";

struct BadParams {
  std::string name;
  std::string yaml;
  int line;
  std::string key;
  std::string problem;
};

void PrintTo(const BadParams& c, std::ostream* os) { *os << c.name; }

std::vector<BadParams> ParamsCases() {
  return {
      {"UnknownField", kParamsHead + "  - {name: robot.panda_joint1.kpp, estimate: 1}\n", 4, "parameters[0].name",
       "unknown robot parameter 'kpp'"},
      {"UnknownJoint",
       kParamsHead +
           "  - {name: robot.panda_joint1.kp, estimate: 1}\n  - {name: robot.panda_joint99.kd, estimate: 1}\n",
       5, "parameters[1]", "unknown joint 'panda_joint99'"},
      {"UnknownLink", kParamsHead + "  - {name: robot.panda_link99.mass_kg, estimate: 1}\n", 4, "parameters[0].name",
       "unknown link 'panda_link99'"},
      {"UnknownLinkInertia", kParamsHead + "  - {name: robot.panda_link99.izz_kgm2, estimate: 0.01}\n", 4,
       "parameters[0].name", "unknown link 'panda_link99'"},
      {"NegativeMomentOfInertia", kParamsHead + "  - {name: robot.panda_link3.iyy_kgm2, estimate: -0.01, lower: -1}\n",
       4, "parameters[0].estimate", "is a moment of inertia: must be >= 0, found -0.01"},
      {"InertiaNotARealBody",
       kParamsHead + "  - {name: robot.panda_link3.mass_kg, estimate: 2}\n"
                     "  - {name: robot.panda_link3.ixx_kgm2, estimate: 0.01}\n"
                     "  - {name: robot.panda_link3.iyy_kgm2, estimate: 0.01}\n"
                     "  - {name: robot.panda_link3.izz_kgm2, estimate: 0.05}\n",
       4, "parameters[0].estimate", "each at most the sum of the other two"},
      {"InertiaNotPositiveSemidefinite", kParamsHead + "  - {name: robot.panda_link3.ixy_kgm2, estimate: 0.5}\n", 4,
       "parameters[0].estimate", "principal moments -0.4"},
      {"UnknownObject", kParamsHead + "  - {name: objects.cube.mass_kg, estimate: 1}\n", 4, "parameters[0].name",
       "no free object 'cube'"},
      {"UnknownGroup", kParamsHead + "  - {name: world.gravity.z, estimate: 1}\n", 4, "parameters[0].name",
       "is not a parameter name"},
      {"NegativeFriction", kParamsHead + "  - {name: robot.panda_joint1.coulomb_friction, estimate: -0.5, lower: -1}\n",
       4, "parameters[0].estimate", ">= 0, found -0.5"},
      {"MalformedYaml", kParamsHead + "  - {name: robot.panda_joint1.kp, estimate: 1\n", 5, "", "malformed YAML"},
      {"WrongFormat", "format: real2sim.params/9\nparameters: []\n", 1, "format", "expected 'real2sim.params/1'"},
      {"UnknownKey", kParamsHead + "  - {name: robot.panda_joint1.kp, estimat: 1}\n", 4, "parameters[0].estimat",
       "did you mean 'estimate'"},
      {"EstimateNotANumber", kParamsHead + "  - {name: robot.panda_joint1.kp, estimate: high}\n", 4,
       "parameters[0].estimate", "expected a number, found 'high'"},
      {"EstimateOutsideBounds", kParamsHead + "  - {name: robot.panda_joint1.kp, estimate: 7, lower: 0, upper: 5}\n", 4,
       "parameters[0]", "lies outside its bounds"},
      {"CovarianceWrongSize",
       kParamsHead + "  - {name: robot.panda_joint1.kp, estimate: 1}\ncovariance: {names: [robot.panda_joint1.kp], "
                     "matrix: [[1, 0], [0, 1]]}\n",
       5, "covariance.matrix", "has 2 rows for 1 names"},
      {"CovarianceUnknownName",
       kParamsHead + "  - {name: robot.panda_joint1.kp, estimate: 1}\ncovariance: {names: [robot.panda_joint1.kd], "
                     "matrix: [[1]]}\n",
       5, "covariance.names[0]", "is not one of the parameters"},
  };
}

class BadParamsTest : public ::testing::TestWithParam<BadParams> {};

TEST_P(BadParamsTest, NamesParamsFileLineAndKey) {
  const BadParams& c = GetParam();
  TempDir dir;
  CopyPanda(dir.path());
  WriteTextFile(dir / "scene.yaml", kRobot);
  const fs::path params = dir / "params.yaml";
  WriteTextFile(params, c.yaml);
  try {
    LoadScene(dir.path(), params);
    ADD_FAILURE() << "no InputError for:\n" << c.yaml;
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), params.string()) << e.what();
    const std::string expected_field = "line " + std::to_string(c.line) + (c.key.empty() ? "" : ": " + c.key);
    EXPECT_EQ(e.field(), expected_field) << e.what();
    EXPECT_NE(std::string(e.what()).find(c.problem), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Table, BadParamsTest, ::testing::ValuesIn(ParamsCases()),
                         [](const ::testing::TestParamInfo<BadParams>& info) { return info.param.name; });

}  // namespace
}  // namespace r2s::sim
