// Object-centric retargeting (amplify/retarget.h) through a real pick-and-place: a scripted demonstration picks a
// 4 cm cube and places it on a spot (tests/fixtures/pick_place); retargeted to a moved and turned cube, it still
// picks the cube and places it on the same spot in Bullet, while the unretargeted demonstration misses the cube.

#include "amplify/retarget.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <functional>
#include <memory>
#include <numbers>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "amplify/generator.h"
#include "amplify/grasp_inference.h"
#include "episode/dataset_writer.h"
#include "episode/input_error.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/scene_compiler.h"
#include "sim/success.h"
#include "sim/world.h"
#include "tests/pick_place_demo.h"
#include "tests/test_support.h"

namespace r2s::amplify {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;
using r2s::testing::WriteTextFile;
using namespace pick_place;  // NOLINT: the fixture's constants and scripted teleoperator

// Where the variant puts the cube: moved (+0.06, -0.05) m and turned 20 degrees about z.
const Eigen::Vector3d kCubeShift_m(0.06, -0.05, 0);
constexpr double kCubeTurn_rad = 20.0 * std::numbers::pi / 180.0;

struct Simulated {
  Eigen::Isometry3d cube_pose = Eigen::Isometry3d::Identity();
  double cube_highest_m = 0;  // the cube centre's highest point on the way: it was carried, not pushed
  sim::SuccessReport success;
  std::string Describe() const {
    std::string text = "cube ends at (" + std::to_string(cube_pose.translation().x()) + ", " +
                       std::to_string(cube_pose.translation().y()) + ", " +
                       std::to_string(cube_pose.translation().z()) + "), highest " + std::to_string(cube_highest_m);
    for (const std::string& line : success.failed) text += "; " + line;
    return text;
  }
};

// Drives a fresh world with `targets` (dofs x frames), one frame per substeps_per_frame physics steps, the cube
// starting at `cube_pose`, and evaluates the scene's success predicate on the last state.
Simulated Simulate(const std::shared_ptr<const sim::Model>& model, const Eigen::MatrixXd& targets,
                   const Eigen::Isometry3d& cube_pose) {
  sim::World world(model);
  const int cube = model->FindObject("cube");
  world.SetObjectPose(cube, cube_pose);
  sim::RobotCommand command;
  Simulated out;
  for (Eigen::Index f = 0; f < targets.cols(); ++f) {
    command.position = targets.col(f);
    world.SetCommand(command);
    world.Step(model->sim.substeps_per_frame);
    out.cube_highest_m = std::max(out.cube_highest_m, world.ObjectPose(cube).translation().z());
  }
  out.cube_pose = world.ObjectPose(cube);
  out.success = sim::EvaluateSuccess(*model, {out.cube_pose}, world.joint_positions());
  return out;
}

// A scripted pick-and-place, as a teleoperator would record it: the hand's grasp point moves through key poses
// (smoothstep in time, straight lines in space, yaw interpolated) and the gripper opens and closes while the hand
// holds still. Joint targets by IK, plus the gravity sag g(q) / kp, so that the PD-driven arm (no gravity
// compensation in the simulator) reaches the poses: the targets are what a real controller would have logged.
Eigen::MatrixXd PickAndPlace(const sim::Model& model, const RetargetSpec& spec, double* worst_ik_error_m) {
  const Eigen::Vector3d up(0, 0, 0.12);
  // Pads a few millimetres below the cube's centre: the grip is then below the centre of mass.
  const Eigen::Vector3d grasp_m = model.objects[spec.object].initial_pose.translation() - Eigen::Vector3d(0, 0, 0.004);
  const Eigen::Vector3d place_m = kPlaceSpot_m + Eigen::Vector3d(0, 0, 0.002);
  ScriptedDemonstration demo(model, spec);
  demo.Hold(10);
  demo.MoveTo(HandPose(grasp_m + up, 0), 40);  // above the cube
  demo.MoveTo(HandPose(grasp_m, 0), 30);       // descend
  demo.SetGripper(kGripperClosed_m, 20);       // grasp, holding still while the fingers close
  demo.MoveTo(HandPose(grasp_m + up, 0), 30);  // lift
  demo.MoveTo(HandPose(place_m + up, 0), 50);  // carry to the place spot
  demo.MoveTo(HandPose(place_m, 0), 30);       // lower
  demo.SetGripper(kGripperOpen_m, 15);         // release
  demo.MoveTo(HandPose(place_m + up, 0), 25);  // retreat
  demo.Hold(10);                               // let the cube settle
  if (worst_ik_error_m) *worst_ik_error_m = demo.worst_ik_error_m();
  return demo.targets();
}

// One scene, spec and demonstration for the whole suite: loading the Panda and simulating cost most of the time.
class PickPlaceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    MakePickPlaceScene(dir_->path());
    model_ = sim::LoadScene(dir_->path());
    auto spec = ParseRetargetSpec(dir_->path() / "scene.yaml", *model_);
    if (!spec) return;  // SetUp reports it
    spec_ = std::make_unique<RetargetSpec>(*spec);
    source_ = std::make_unique<Eigen::MatrixXd>(PickAndPlace(*model_, *spec_, &demo_ik_error_m_));
  }
  static void TearDownTestSuite() {
    source_.reset();
    spec_.reset();
    model_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(source_) << "the fixture's scene.yaml has no retarget section"; }

  static const sim::Model& model() { return *model_; }
  static const std::shared_ptr<const sim::Model>& shared_model() { return model_; }
  static const RetargetSpec& spec() { return *spec_; }
  static const Eigen::MatrixXd& source() { return *source_; }
  static Eigen::Isometry3d SourceCubePose() { return model().objects[spec().object].initial_pose; }
  static Eigen::Isometry3d MovedCubePose() {
    return CubePose(SourceCubePose().translation() + kCubeShift_m, kCubeTurn_rad);
  }
  // Writes a scene.yaml whose retarget section is `retarget` (the model stays the fixture's) and parses it.
  static std::optional<RetargetSpec> ParseSection(const std::string& retarget) {
    const fs::path file = *dir_ / "variants/scene.yaml";
    WriteTextFile(file, "name: pick_place\n" + retarget);
    return ParseRetargetSpec(file, model());
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::shared_ptr<const sim::Model> model_;
  static inline std::unique_ptr<RetargetSpec> spec_;
  static inline std::unique_ptr<Eigen::MatrixXd> source_;
  static inline double demo_ik_error_m_ = 0;
};

// The largest change of any arm joint's target from one frame to the next.
double LargestArmStep(const Eigen::MatrixXd& targets, const std::vector<int>& arm_dofs, Eigen::Index* at = nullptr) {
  double largest = 0;
  for (Eigen::Index f = 1; f < targets.cols(); ++f) {
    for (int dof : arm_dofs) {
      const double step = std::abs(targets(dof, f) - targets(dof, f - 1));
      if (step > largest) {
        largest = step;
        if (at) *at = f;
      }
    }
  }
  return largest;
}

constexpr char kGoodSection[] = R"(retarget:
  object: cube
  end_effector_link: panda_hand
  arm_joints: [panda_joint1, panda_joint2, panda_joint3, panda_joint4, panda_joint5, panda_joint6, panda_joint7]
  gripper_joints: [panda_finger_joint1, panda_finger_joint2]
  gripper_closed_below: 0.035
)";

// Expects ParseSection(section) to throw InputError whose field names `field` and whose problem mentions `problem`.
void ExpectParseError(const std::string& section, const std::string& field, const std::string& problem,
                      const std::function<std::optional<RetargetSpec>(const std::string&)>& parse) {
  try {
    parse(section);
    ADD_FAILURE() << "no error for:\n" << section;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.field()).find(field), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.problem()).find(problem), std::string::npos) << e.what();
    EXPECT_EQ(e.field().rfind("line ", 0), 0u) << "the field should start with the line: " << e.what();
  }
}

TEST_F(PickPlaceTest, FixtureRetargetSectionParses) {
  const sim::RobotModel& robot = *model().robot;
  EXPECT_EQ(spec().object, model().FindObject("cube"));
  EXPECT_EQ(spec().end_effector_link, robot.FindLink("panda_hand"));
  ASSERT_EQ(spec().arm_dofs.size(), 7u);
  for (int i = 0; i < 7; ++i) EXPECT_EQ(spec().arm_dofs[i], robot.FindDof("panda_joint" + std::to_string(i + 1)));
  EXPECT_EQ(spec().gripper_dofs,
            (std::vector<int>{robot.FindDof("panda_finger_joint1"), robot.FindDof("panda_finger_joint2")}));
  EXPECT_DOUBLE_EQ(spec().gripper_closed_below, 0.035);
  EXPECT_EQ(spec().transition_frames, 15);
  EXPECT_EQ(spec().source.rfind("scene.yaml:", 0), 0u) << spec().source;
  EXPECT_NE(spec().source.find(": retarget"), std::string::npos) << spec().source;
}

TEST_F(PickPlaceTest, ParseDefaultsAndAbsence) {
  EXPECT_FALSE(ParseSection("").has_value());
  EXPECT_FALSE(ParseSection("retarget:\n").has_value());
  const auto spec = ParseSection(kGoodSection);
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->transition_frames, 15);  // the default
  EXPECT_EQ(spec->source, "scene.yaml:2: retarget");
}

TEST_F(PickPlaceTest, BadRetargetSectionsNameTheKey) {
  const auto parse = [](const std::string& s) { return ParseSection(s); };
  const std::string good = kGoodSection;
  const auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  ExpectParseError(replace("object: cube", "object: mug"), "retarget.object", "unknown object 'mug'", parse);
  ExpectParseError(replace("object: cube", "object: table"), "retarget.object", "static", parse);
  ExpectParseError(replace("panda_joint3,", "panda_jointX,"), "retarget.arm_joints[2]", "unknown joint 'panda_jointX'",
                   parse);
  ExpectParseError(replace("[panda_finger_joint1,", "[panda_joint7,"), "retarget.gripper_joints[0]", "listed twice",
                   parse);
  ExpectParseError(replace("panda_hand", "panda_palm"), "retarget.end_effector_link", "unknown link 'panda_palm'",
                   parse);
  ExpectParseError(replace("panda_hand", "panda_link3"), "retarget.arm_joints[3]", "does not move", parse);
  ExpectParseError(good + "  transition_frame: 10\n", "retarget.transition_frame",
                   "unknown key 'transition_frame' (did you mean 'transition_frames'?)", parse);
  ExpectParseError(good + "  transition_frames: 0\n", "retarget.transition_frames", "expected at least 1", parse);
  ExpectParseError(good + "  transition_frames: 2.5\n", "retarget.transition_frames", "expected an integer", parse);
  ExpectParseError(replace("  gripper_closed_below: 0.035\n", ""), "retarget.gripper_closed_below",
                   "missing required key", parse);
  ExpectParseError(replace("0.035", ".nan"), "retarget.gripper_closed_below", "finite", parse);
  ExpectParseError(good + "  place_relative_to: shelf\n", "retarget.place_relative_to",
                   "unknown body 'shelf'; the scene's bodies are: table, cube", parse);
  ExpectParseError(good + "  place_relative_to: cube\n", "retarget.place_relative_to", "is an object being moved",
                   parse);

  sim::Model without_robot = model();
  without_robot.robot.reset();
  const auto parse_without_robot = [&](const std::string& section) {
    const fs::path file = *dir_ / "variants/no_robot.yaml";
    WriteTextFile(file, "name: pick_place\n" + section);
    return ParseRetargetSpec(file, without_robot);
  };
  ExpectParseError(good, "retarget", "no robot", parse_without_robot);
  EXPECT_THROW(Retarget(without_robot, spec(), source(), SourceCubePose(), SourceCubePose()), std::invalid_argument);
}

TEST_F(PickPlaceTest, PlaceRelativeToNamesAStaticBody) {
  EXPECT_FALSE(spec().place_relative_to.has_value());
  const auto spec = ParseSection(std::string(kGoodSection) + "  place_relative_to: table\n");
  ASSERT_TRUE(spec.has_value());
  ASSERT_TRUE(spec->place_relative_to.has_value());
  EXPECT_FALSE(spec->place_relative_to->is_object);
  EXPECT_EQ(model().environment.at(spec->place_relative_to->index).name, "table");
  RetargetSpec bad = *spec;
  bad.place_relative_to->index = 7;
  EXPECT_THROW(Retarget(model(), bad, source(), SourceCubePose(), SourceCubePose()), std::invalid_argument);
}

TEST_F(PickPlaceTest, RetargetRejectsMismatchedSizes) {
  const Eigen::Isometry3d pose = SourceCubePose();
  EXPECT_THROW(Retarget(model(), spec(), Eigen::MatrixXd::Zero(7, 10), pose, pose), std::invalid_argument);
  EXPECT_THROW(Retarget(model(), spec(), Eigen::MatrixXd::Zero(9, 0), pose, pose), std::invalid_argument);
  RetargetSpec bad = spec();
  bad.arm_dofs.push_back(9);
  EXPECT_THROW(Retarget(model(), bad, source(), pose, pose), std::invalid_argument);
  bad = spec();
  bad.object = 3;
  EXPECT_THROW(Retarget(model(), bad, source(), pose, pose), std::invalid_argument);
}

// The demonstration itself works: without this, the tests below would prove nothing.
TEST_F(PickPlaceTest, SourceDemonstrationPlacesTheCube) {
  ASSERT_EQ(model().success.size(), 1u);
  const sim::SuccessCondition& region = model().success[0];
  EXPECT_TRUE((0.5 * (region.region_min_m + region.region_max_m)).head<2>().isApprox(kPlaceSpot_m.head<2>()));
  EXPECT_LT(demo_ik_error_m_, 1e-4);
  const Simulated run = Simulate(shared_model(), source(), SourceCubePose());
  EXPECT_TRUE(run.success.success) << run.Describe();
  EXPECT_GT(run.cube_highest_m, 0.1) << "the cube was not carried: " << run.Describe();
}

TEST_F(PickPlaceTest, RetargetedDemonstrationPlacesTheMovedCube) {
  const RetargetResult result = Retarget(model(), spec(), source(), SourceCubePose(), MovedCubePose());
  ASSERT_EQ(result.position.rows(), source().rows());
  ASSERT_EQ(result.position.cols(), source().cols());
  // approach | grasp ... release | retreat: the script closes the gripper at frame 80 and opens it at frame 210.
  EXPECT_EQ(result.segment_starts, (std::vector<std::int64_t>{0, 80, 210}));
  EXPECT_LT(result.max_ik_error_m, 0.005);
  EXPECT_LT(result.max_ik_error_rad, 0.05);

  // Non-arm dofs (the fingers) are the source's.
  for (int dof : spec().gripper_dofs) EXPECT_EQ(result.position.row(dof), source().row(dof)) << "dof " << dof;
  // Joint limits hold.
  for (int dof : spec().arm_dofs) {
    const sim::Link& link = model().robot->dof_link(dof);
    EXPECT_GE(result.position.row(dof).minCoeff(), link.lower_limit);
    EXPECT_LE(result.position.row(dof).maxCoeff(), link.upper_limit);
  }

  // The approach acts on the cube: at the grasp the hand stands to the moved cube as it stood to the source's.
  const sim::RigidBodyDynamics dynamics(*model().robot, model().sim.gravity_mps2);
  const auto hand = [&](const Eigen::MatrixXd& targets, Eigen::Index f) {
    return dynamics.LinkPoses(targets.col(f))[spec().end_effector_link];
  };
  const Eigen::Isometry3d grasp_in_cube = SourceCubePose().inverse() * hand(source(), 79);
  const Eigen::Isometry3d retargeted_grasp_in_cube = MovedCubePose().inverse() * hand(result.position, 79);
  EXPECT_LT((retargeted_grasp_in_cube.translation() - grasp_in_cube.translation()).norm(), 1e-5);
  EXPECT_LT(Eigen::AngleAxisd(retargeted_grasp_in_cube.linear() * grasp_in_cube.linear().transpose()).angle(), 1e-4);
  // While the fingers close (frames 80-99) the robot holds still, as the demonstrator did.
  for (Eigen::Index f = 80; f < 100; ++f) {
    EXPECT_LT((result.position.col(f) - result.position.col(79)).head(7).lpNorm<Eigen::Infinity>(), 1e-12) << f;
  }
  // Transport, place and retreat act on the fixed place spot: once the transition after the lift has faded, the
  // targets are the source's own.
  for (Eigen::Index f = 125; f < source().cols(); ++f) {
    EXPECT_LT((result.position.col(f) - source().col(f)).lpNorm<Eigen::Infinity>(), 1e-9) << "frame " << f;
  }

  // No jumps: the robot starts where the source starts it, and no joint's target moves in one frame further
  // than its velocity limit allows. Without the transitions (transition_frames 1) the lift after the grasp would
  // jump by the whole distance between the moved and the source grasp.
  EXPECT_TRUE(result.position.col(0).isApprox(source().col(0), 1e-12));
  const double frame_s = model().sim.time_step_s * model().sim.substeps_per_frame;
  for (Eigen::Index f = 1; f < result.position.cols(); ++f) {
    for (int dof : spec().arm_dofs) {
      const double step = std::abs(result.position(dof, f) - result.position(dof, f - 1));
      ASSERT_LT(step, model().robot->actuators[dof].velocity_limit * frame_s)
          << "dof " << dof << " jumps at frame " << f;
    }
  }
  RetargetSpec without_transitions = spec();
  without_transitions.transition_frames = 1;
  const RetargetResult jumpy = Retarget(model(), without_transitions, source(), SourceCubePose(), MovedCubePose());
  EXPECT_GT(LargestArmStep(jumpy.position, spec().arm_dofs), 3 * LargestArmStep(result.position, spec().arm_dofs));

  const Simulated run = Simulate(shared_model(), result.position, MovedCubePose());
  EXPECT_TRUE(run.success.success) << run.Describe();
  EXPECT_GT(run.cube_highest_m, 0.1) << "the cube was not carried: " << run.Describe();
}

// A second reference (MimicGen's place subtask): the place target moved too. The spot on the table is the place
// reference here (the table itself, as place_relative_to: table would name it), moved (-0.06, +0.05) m and turned
// 10 degrees about its own centre; the scene's success region moves with it. The approach still acts on the cube
// alone; from the grasp on, once the transition has faded, the hand stands to the moved place as the source's
// stood to the source's, and in Bullet the cube ends in the moved region.
TEST_F(PickPlaceTest, RetargetedToAMovedPlaceTheCarryFollowsIt) {
  RetargetSpec spec_with_place = spec();
  spec_with_place.place_relative_to = RetargetSpec::BodyRef{false, 0};
  RetargetPoses poses;
  poses.source_object = SourceCubePose();
  poses.new_object = MovedCubePose();
  poses.source_place = CubePose(kPlaceSpot_m, 0);
  poses.new_place = CubePose(kPlaceSpot_m + Eigen::Vector3d(-0.06, 0.05, 0), 10.0 * std::numbers::pi / 180.0);
  const RetargetResult result = Retarget(model(), spec_with_place, source(), poses);
  EXPECT_EQ(result.segment_starts, (std::vector<std::int64_t>{0, 80, 210}));
  EXPECT_LT(result.max_ik_error_m, 0.005);
  EXPECT_LT(result.max_ik_error_rad, 0.05);

  const sim::RigidBodyDynamics dynamics(*model().robot, model().sim.gravity_mps2);
  const auto hand = [&](const Eigen::MatrixXd& targets, Eigen::Index f) {
    return dynamics.LinkPoses(targets.col(f))[spec().end_effector_link];
  };
  // The approach is the one without a place reference: it acts on the cube only.
  const RetargetResult cube_only = Retarget(model(), spec(), source(), SourceCubePose(), MovedCubePose());
  EXPECT_LT((result.position.leftCols(80) - cube_only.position.leftCols(80)).lpNorm<Eigen::Infinity>(), 1e-12);
  // From the carry on, the hand in the place's frame is the source's.
  for (Eigen::Index f = 125; f < source().cols(); ++f) {
    const Eigen::Isometry3d source_in_place = poses.source_place.inverse() * hand(source(), f);
    const Eigen::Isometry3d retargeted_in_place = poses.new_place.inverse() * hand(result.position, f);
    ASSERT_LT((retargeted_in_place.translation() - source_in_place.translation()).norm(), 1e-4) << "frame " << f;
  }
  // No jumps at the grasp, where the mapping changes from the cube's to the place's.
  const double frame_s = model().sim.time_step_s * model().sim.substeps_per_frame;
  for (Eigen::Index f = 1; f < result.position.cols(); ++f) {
    for (int dof : spec().arm_dofs) {
      ASSERT_LT(std::abs(result.position(dof, f) - result.position(dof, f - 1)),
                model().robot->actuators[dof].velocity_limit * frame_s)
          << "dof " << dof << " jumps at frame " << f;
    }
  }

  // In Bullet, the cube lands in the region moved with the place; the unmoved region does not hold it.
  auto moved_scene = std::make_shared<sim::Model>(model());
  sim::SuccessCondition& region = moved_scene->success.at(0);
  const Eigen::Vector3d half = 0.5 * (region.region_max_m - region.region_min_m);
  const Eigen::Vector3d centre =
      poses.new_place * poses.source_place.inverse() * (0.5 * (region.region_min_m + region.region_max_m));
  region.region_min_m.head<2>() = centre.head<2>() - half.head<2>();
  region.region_max_m.head<2>() = centre.head<2>() + half.head<2>();
  const Simulated run = Simulate(moved_scene, result.position, MovedCubePose());
  EXPECT_TRUE(run.success.success) << run.Describe();
  EXPECT_GT(run.cube_highest_m, 0.1) << "the cube was not carried: " << run.Describe();
  const Simulated unmoved = Simulate(shared_model(), result.position, MovedCubePose());
  EXPECT_FALSE(unmoved.success.success) << unmoved.Describe();
}

// Several objects picked in turn (retarget.object as a list): the fixture with a second cube, placed on a second
// spot after the first. The demonstration picks cube and places it, then picks cube_b and places it; both cubes
// are moved and turned. Each approach follows its own cube (the k-th carrying grasp carries the k-th object), and
// in Bullet both land on their spots; unretargeted, neither is picked.
class TwoCubesTest : public ::testing::Test {
 protected:
  static constexpr const char* kCubeB = R"(  - name: cube_b
    shape: {box: [0.04, 0.04, 0.04]}
    mass_kg: 0.05
    material: rubber
    initial_pose: {position_m: [0.35, -0.05, 0.02]}
)";
  static inline const Eigen::Vector3d kSpotB_m{0.55, 0.25, 0.02};

  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    MakePickPlaceScene(dir_->path());
    std::ifstream in(dir_->path() / "scene.yaml");
    std::string text(std::istreambuf_iterator<char>(in), {});
    const auto insert = [&](const std::string& before, const std::string& what) {
      const auto at = text.find(before);
      ASSERT_NE(at, std::string::npos) << before;
      text.insert(at, what);
    };
    insert("\nenvironment:", std::string("\n") + kCubeB);
    insert("\n# Object-centric retargeting",
           "\n  - {object_in_region: {object: cube_b, min_m: [0.51, 0.21, 0.0], max_m: [0.59, 0.29, 0.03]}}");
    const std::string object_line = "  object: cube\n";
    const auto at = text.find(object_line);
    ASSERT_NE(at, std::string::npos);
    // The cube's frame in the hand while held (its centre 4 mm above the grasp point), for grasp inference.
    text.replace(at, object_line.size(),
                 "  object: [cube, cube_b]\n"
                 "  grasp_offset: {position_m: [0, 0, 0.099], rpy_rad: [3.141592653589793, 0, 0]}\n");
    WriteTextFile(dir_->path() / "scene.yaml", text);
    model_ = sim::LoadScene(dir_->path());
    auto spec = ParseRetargetSpec(dir_->path() / "scene.yaml", *model_);
    ASSERT_TRUE(spec.has_value());
    spec_ = std::make_unique<RetargetSpec>(*spec);
    // Pick cube, place it on the first spot; pick cube_b, place it on the second.
    const Eigen::Vector3d up(0, 0, 0.12), below_centre(0, 0, 0.004), above_rest(0, 0, 0.002);
    ScriptedDemonstration demo(*model_, *spec_);
    demo.Hold(10);
    for (const auto& [object, spot] : {std::pair{0, kPlaceSpot_m}, std::pair{1, kSpotB_m}}) {
      const Eigen::Vector3d grasp_m = model_->objects[object].initial_pose.translation() - below_centre;
      demo.MoveTo(HandPose(grasp_m + up, 0), 40);
      demo.MoveTo(HandPose(grasp_m, 0), 30);
      demo.SetGripper(kGripperClosed_m, 20);
      demo.MoveTo(HandPose(grasp_m + up, 0), 30);
      demo.MoveTo(HandPose(spot + above_rest + up, 0), 50);
      demo.MoveTo(HandPose(spot + above_rest, 0), 30);
      demo.SetGripper(kGripperOpen_m, 15);
      demo.MoveTo(HandPose(spot + above_rest + up, 0), 25);
    }
    demo.Hold(10);
    source_ = std::make_unique<Eigen::MatrixXd>(demo.targets());
  }
  static void TearDownTestSuite() {
    source_.reset();
    spec_.reset();
    model_.reset();
    dir_.reset();
  }
  void SetUp() override { ASSERT_TRUE(source_) << "the two-cube scene did not load"; }

  // Both cubes' final poses and the scene's success predicate after driving `targets`; the measured joints and
  // both cubes' poses of every frame (before its command) into `measured` and `cube_poses` when given.
  static std::pair<sim::SuccessReport, std::vector<double>> Run(
      const Eigen::MatrixXd& targets, const std::vector<Eigen::Isometry3d>& starts,
      Eigen::MatrixXd* measured = nullptr, std::vector<std::vector<Eigen::Isometry3d>>* cube_poses = nullptr) {
    sim::World world(model_);
    for (int i = 0; i < 2; ++i) world.SetObjectPose(i, starts[i]);
    sim::RobotCommand command;
    std::vector<double> highest_m(2, 0.0);
    if (measured) measured->resize(targets.rows(), targets.cols());
    for (Eigen::Index f = 0; f < targets.cols(); ++f) {
      if (measured) measured->col(f) = world.joint_positions();
      if (cube_poses) cube_poses->push_back({world.ObjectPose(0), world.ObjectPose(1)});
      command.position = targets.col(f);
      world.SetCommand(command);
      world.Step(model_->sim.substeps_per_frame);
      for (int i = 0; i < 2; ++i) highest_m[i] = std::max(highest_m[i], world.ObjectPose(i).translation().z());
    }
    return {sim::EvaluateSuccess(*model_, {world.ObjectPose(0), world.ObjectPose(1)}, world.joint_positions()),
            highest_m};
  }

  static inline std::unique_ptr<TempDir> dir_;
  static inline std::shared_ptr<const sim::Model> model_;
  static inline std::unique_ptr<RetargetSpec> spec_;
  static inline std::unique_ptr<Eigen::MatrixXd> source_;
};

TEST_F(TwoCubesTest, TheListParsesInPickOrder) {
  EXPECT_EQ(spec_->object, model_->FindObject("cube"));
  EXPECT_EQ(spec_->later_objects, (std::vector<int>{model_->FindObject("cube_b")}));
  EXPECT_EQ(PickedObjects(*spec_), (std::vector<int>{0, 1}));
  const fs::path file = dir_->path() / "bad/scene.yaml";
  const auto parse = [&](const std::string& object) {
    WriteTextFile(file, "name: two\nretarget:\n  object: " + object +
                            "\n  end_effector_link: panda_hand\n  arm_joints: [panda_joint1, panda_joint2, "
                            "panda_joint3, panda_joint4, panda_joint5, panda_joint6, panda_joint7]\n"
                            "  gripper_joints: [panda_finger_joint1, panda_finger_joint2]\n"
                            "  gripper_closed_below: 0.035\n");
    return ParseRetargetSpec(file, *model_);
  };
  ExpectParseError("[cube, cube]", "retarget.object[1]", "listed twice", parse);
  ExpectParseError("[cube, mug]", "retarget.object[1]", "unknown object 'mug'", parse);
  ExpectParseError("[]", "retarget.object", "an empty list", parse);
}

TEST_F(TwoCubesTest, EachApproachFollowsItsOwnCubeAndBothLand) {
  const std::vector<Eigen::Isometry3d> source_starts = {model_->objects[0].initial_pose,
                                                        model_->objects[1].initial_pose};
  Eigen::MatrixXd measured;
  std::vector<std::vector<Eigen::Isometry3d>> cube_poses;
  const auto source_run = Run(*source_, source_starts, &measured, &cube_poses);
  ASSERT_TRUE(source_run.first.success) << "the demonstration itself fails: " << source_run.first.failed.front();
  // Each cube as held, inferred from the grasp that carried it (InferObjectPoses' pick): the second pick is
  // cube_b's grasp, not the first cube's. (Where the scripted hand closes a few millimetres off centre, the
  // fingers push the cube before holding it; the pose at grasp is where it is held.)
  for (int pick = 0; pick < 2; ++pick) {
    const InferredObjectPoses inferred = InferObjectPoses(*model_, *spec_, measured, {}, pick);
    ASSERT_TRUE(inferred.grasp_found) << inferred.summary;
    const std::int64_t commanded = pick == 0 ? 80 : 320;  // the measured jaw follows a frame or two later
    EXPECT_GE(inferred.grasp_frame, commanded) << inferred.summary;
    EXPECT_LE(inferred.grasp_frame, commanded + 3) << inferred.summary;
    const Eigen::Isometry3d held = cube_poses.at(static_cast<std::size_t>(inferred.settled_frame + 5))[pick];
    EXPECT_LT((inferred.pose_at_grasp.translation() - held.translation()).norm(), 0.005) << inferred.summary;
  }

  const std::vector<Eigen::Isometry3d> moved = {
      CubePose(source_starts[0].translation() + kCubeShift_m, kCubeTurn_rad),
      CubePose(source_starts[1].translation() + Eigen::Vector3d(-0.04, -0.06, 0), -15.0 * std::numbers::pi / 180)};
  RetargetPoses poses;
  poses.source_object = source_starts[0];
  poses.new_object = moved[0];
  poses.source_later_objects = {source_starts[1]};
  poses.new_later_objects = {moved[1]};
  const RetargetResult result = Retarget(*model_, *spec_, *source_, poses);
  // approach | carry | approach | carry | retreat: grasps at frames 80 and 320, releases at 210 and 450.
  EXPECT_EQ(result.segment_starts, (std::vector<std::int64_t>{0, 80, 210, 320, 450}));
  EXPECT_LT(result.max_ik_error_m, 0.005);
  EXPECT_LT(result.max_ik_error_rad, 0.05);
  // At each grasp the hand stands to its moved cube as the demonstration's stood to its own.
  const sim::RigidBodyDynamics dynamics(*model_->robot, model_->sim.gravity_mps2);
  for (const auto& [cube, frame] : {std::pair{0, 79}, std::pair{1, 319}}) {
    const Eigen::Isometry3d source_in_cube =
        source_starts[cube].inverse() * dynamics.LinkPoses(source_->col(frame))[spec_->end_effector_link];
    const Eigen::Isometry3d retargeted_in_cube =
        moved[cube].inverse() * dynamics.LinkPoses(result.position.col(frame))[spec_->end_effector_link];
    EXPECT_LT((retargeted_in_cube.translation() - source_in_cube.translation()).norm(), 1e-4) << "cube " << cube;
  }
  const auto run = Run(result.position, moved);
  EXPECT_TRUE(run.first.success) << (run.first.failed.empty() ? "" : run.first.failed.front());
  EXPECT_GT(run.second[0], 0.1);
  EXPECT_GT(run.second[1], 0.1);
  // Retargeted to the first cube only (cube_b left where the demonstration had it), cube_b is missed.
  RetargetPoses first_only = poses;
  first_only.new_later_objects = {source_starts[1]};
  const auto missed = Run(Retarget(*model_, *spec_, *source_, first_only).position, moved);
  EXPECT_FALSE(missed.first.success);
  EXPECT_LT(missed.second[1], 0.03) << "cube_b should not have been lifted";
}

// The negative control: the same demonstration without retargeting closes the gripper where the cube was.
TEST_F(PickPlaceTest, UnretargetedDemonstrationMissesTheMovedCube) {
  const Simulated run = Simulate(shared_model(), source(), MovedCubePose());
  EXPECT_FALSE(run.success.success) << run.Describe();
  // The cube was never picked up: it is still where the variant put it.
  EXPECT_LT((run.cube_pose.translation() - MovedCubePose().translation()).norm(), 0.01) << run.Describe();
  EXPECT_LT(run.cube_highest_m, 0.03) << run.Describe();
}

TEST_F(PickPlaceTest, RetargetingToTheSamePoseReproducesTheSource) {
  const RetargetResult result = Retarget(model(), spec(), source(), SourceCubePose(), SourceCubePose());
  EXPECT_LT(result.max_ik_error_m, 1e-6);
  EXPECT_LT(result.max_ik_error_rad, 1e-5);
  EXPECT_LT((result.position - source()).lpNorm<Eigen::Infinity>(), 1e-9);
}

// The whole generator on a recorded demonstration: r2s generate's pipeline moves the cube where each variant's
// condition puts it and retargets the demonstration to it (the scene's retarget section); every variant places
// the cube. The same scene without the section replays the demonstration unretargeted, and the variants miss.
episode::Episode RecordDemonstration(const std::shared_ptr<const sim::Model>& model, const Eigen::MatrixXd& targets) {
  sim::World world(model);
  const int cube = model->FindObject("cube");
  const auto frames = targets.cols();
  const int n = model->robot->num_dofs();
  std::vector<double> action, state, pose;
  sim::RobotCommand command;
  for (Eigen::Index f = 0; f < frames; ++f) {
    const Eigen::VectorXd q = world.joint_positions();
    const Eigen::Isometry3d p = world.ObjectPose(cube);
    const Eigen::Quaterniond r(p.linear());
    for (int d = 0; d < n; ++d) {
      action.push_back(targets(d, f));
      state.push_back(q[d]);
    }
    for (double v : {p.translation().x(), p.translation().y(), p.translation().z(), r.x(), r.y(), r.z(), r.w()}) {
      pose.push_back(v);
    }
    command.position = targets.col(f);
    world.SetCommand(command);
    world.Step(model->sim.substeps_per_frame);
  }
  episode::Episode e;
  e.metadata.index = 0;
  e.metadata.length = frames;
  e.columns["action"].data = episode::Array::Of<double>({frames, n}, action);
  e.columns["observation.state"].data = episode::Array::Of<double>({frames, n}, state);
  e.columns["observation.object_pose"].data = episode::Array::Of<double>({frames, 7}, pose);
  return e;
}

// The demonstration recorded as a one-episode robomimic dataset at the fixture's 20 fps (synthetic: scripted,
// recorded in the sim); its first cube's pose is recorded, as observation.object_pose.
fs::path WriteDemonstration(const fs::path& file, const std::string& task,
                            const std::shared_ptr<const sim::Model>& model, const Eigen::MatrixXd& targets) {
  episode::DatasetInfo info;
  info.layout = episode::StorageLayout::kRobomimic;
  info.fps = 20;
  info.tasks = {task};
  info.features["action"] = {episode::DType::kFloat64, {9}, {}, ""};
  info.features["observation.state"] = {episode::DType::kFloat64, {9}, {}, "rad, m"};
  info.features["observation.object_pose"] = {episode::DType::kFloat64, {7}, {}, "m, quaternion xyzw"};
  episode::DatasetWriter writer = episode::DatasetWriter::Create(file, info);
  writer.Append(RecordDemonstration(model, targets));
  writer.Commit();
  return file;
}

TEST_F(PickPlaceTest, GenerateRetargetsTheDemonstrationToEveryVariantsCube) {
  TempDir dir;
  const fs::path dataset = WriteDemonstration(dir / "demo.hdf5", "pick_place", shared_model(), source());
  // The scene, with a condition that moves and turns the cube and nothing else random.
  const std::string randomization = R"(
randomization:
  conditions:
    axes:
      cube_xy_m: {uniform: {min: [0.45, -0.15], max: [0.56, -0.05]}}
      cube_yaw_deg: {uniform: [-20, 20]}
  apply:
    cube_xy_m: {target: objects.cube.position_xy_m}
    cube_yaw_deg: {target: objects.cube.yaw_deg}
)";
  std::string scene_text;
  {
    std::ifstream in(dir_->path() / "scene.yaml");
    scene_text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const fs::path with = dir / "with", without = dir / "without";
  MakePickPlaceScene(with);
  MakePickPlaceScene(without);
  WriteTextFile(with / "scene.yaml", scene_text + randomization);
  const auto section = scene_text.find("\nretarget:");
  ASSERT_NE(section, std::string::npos);
  WriteTextFile(without / "scene.yaml", scene_text.substr(0, section + 1) + randomization);

  const auto run = [&](const fs::path& scene, int* successes, double* worst_ik_error_m) {
    GeneratorOptions options;
    options.variants = 4;
    options.threads = 2;
    options.seed = 1;
    Generator generator = Generator::Open(scene, std::nullopt, dataset, options);
    *successes = 0;
    *worst_ik_error_m = -1;
    generator.Generate(0, generator.total_units(), [&](GeneratedEpisode& g) {
      *successes += g.success ? 1 : 0;

      for (const auto& p : g.episode.provenance->parameters) {
        if (p.name == "retarget.max_ik_error_m") *worst_ik_error_m = std::max(*worst_ik_error_m, p.value[0]);
      }
      // The recorded action is the retargeted one: its first frame still starts at the robot's start.
      const auto action = g.episode.At("action").data.values<double>();
      EXPECT_NEAR(action[0], source()(0, 0), 1e-9);
    });
  };
  int retargeted = 0, unretargeted = 0;
  double ik_error_m = 0, no_ik = 0;
  run(with, &retargeted, &ik_error_m);
  run(without, &unretargeted, &no_ik);
  EXPECT_EQ(retargeted, 4);
  EXPECT_GE(ik_error_m, 0) << "no retarget.max_ik_error_m in the provenance";
  EXPECT_LT(ik_error_m, 0.005);
  // One variant's cube lands within the unretargeted grasp's reach (moved 1 cm); the other three are missed.
  EXPECT_LE(unretargeted, 1);
  EXPECT_EQ(no_ik, -1);
}

// The whole generator on the two-cube demonstration: the dataset records the first cube's pose, not cube_b's,
// which is inferred from the second carrying grasp; each variant moves and turns both cubes, and the
// demonstration is retargeted to both. Retargeted to the first cube only (object: cube), cube_b is missed.
TEST_F(TwoCubesTest, GenerateRetargetsBothCubesAndInfersTheSecond) {
  TempDir dir;
  const fs::path dataset = WriteDemonstration(dir / "demo.hdf5", "two_cubes", model_, *source_);
  const std::string randomization = R"(
randomization:
  conditions:
    axes:
      a_shift_m: {uniform: {min: [0.02, -0.05], max: [0.06, -0.02]}}
      b_shift_m: {uniform: {min: [-0.05, -0.06], max: [-0.02, -0.03]}}
      b_yaw_deg: {uniform: [-15, 15]}
  apply:
    a_shift_m: {target: objects.cube.shift_xy_m}
    b_shift_m: {target: objects.cube_b.shift_xy_m}
    b_yaw_deg: {target: objects.cube_b.yaw_deg}
)";
  std::string scene_text;
  {
    std::ifstream in(dir_->path() / "scene.yaml");
    scene_text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const fs::path both = dir / "both", first_only = dir / "first_only";
  MakePickPlaceScene(both);
  MakePickPlaceScene(first_only);
  WriteTextFile(both / "scene.yaml", scene_text + randomization);
  std::string first_text = scene_text;
  const std::string list = "object: [cube, cube_b]";
  first_text.replace(first_text.find(list), list.size(), "object: cube");
  WriteTextFile(first_only / "scene.yaml", first_text + randomization);

  const auto run = [&](const fs::path& scene) {
    GeneratorOptions options;
    options.variants = 4;
    options.threads = 2;
    options.seed = 3;
    Generator generator = Generator::Open(scene, std::nullopt, dataset, options);
    int successes = 0;
    generator.Generate(0, generator.total_units(), [&](GeneratedEpisode& g) {
      successes += g.success ? 1 : 0;
      if (!g.success) std::cout << scene.filename() << " unit " << g.unit << ": " << g.rejection.detail << "\n";
      bool inferred_b = false;
      for (const auto& p : g.episode.provenance->parameters) {
        inferred_b |= p.name == "object_pose.cube_b.inferred_position_m";
      }
      EXPECT_EQ(inferred_b, scene == both) << "unit " << g.unit << ": cube_b's pose is inferred where it is picked";
    });
    return successes;
  };
  EXPECT_GE(run(both), 3);
  EXPECT_EQ(run(first_only), 0);
}

}  // namespace
}  // namespace r2s::amplify
